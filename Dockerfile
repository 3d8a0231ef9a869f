# relay-server as a small static image. Build: docker build -t hookrelay .
# Run: docker run -p 8080:8080 -e OPENAI_WEBHOOK_SECRET=whsec_... -e RELAY_TOKEN=... hookrelay
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/relay-server ./cmd/relay-server \
 && mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/relay-server /relay-server
# The SQLite file lives here; mount a disk at /data to keep it across deploys.
COPY --from=build --chown=nonroot:nonroot /out/data /data
ENV PORT=8080 DATABASE_URL=/data/relay.db
EXPOSE 8080
USER nonroot:nonroot
ENTRYPOINT ["/relay-server"]
