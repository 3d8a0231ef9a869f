"""A Flask app that receives OpenAI webhooks and verifies their signatures.

Two routes, one per signing scheme that relay-agent can deliver:

  POST /webhooks/openai      Standard Webhooks, as OpenAI documents it
                             (relay-agent --sign-mode resign, the default)
  POST /webhooks/openai-hex  X-OpenAI-Signature: hex HMAC-SHA256 of the body,
                             the scheme many tutorials show
                             (relay-agent --sign-mode hex)

Both read the secret from OPENAI_WEBHOOK_SECRET, answer 200 with the verified
event's type and id, or 400 with the reason, and log one line per webhook.
The port comes from PORT (default 5000).

OpenAI's docs verify with client.webhooks.unwrap from the openai package.
This app uses it when the package is installed; otherwise (Debian ships no
python3-openai) it falls back to verify_standard_webhook below, a hand-written
check of the same scheme.
"""

import base64
import binascii
import functools
import hashlib
import hmac
import json
import logging
import os
import sys
import time

from flask import Flask, jsonify, request

try:
    import openai
except ImportError:  # not installable from Debian: use the fallback below
    openai = None

TOLERANCE_SECONDS = 5 * 60

logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                    format="%(asctime)s %(levelname)s %(message)s")
log = logging.getLogger("webhooks")
app = Flask(__name__)


class VerificationError(Exception):
    """The webhook's signature headers are missing, stale or do not match."""


def secret():
    value = os.environ.get("OPENAI_WEBHOOK_SECRET", "")
    if not value:
        raise RuntimeError("OPENAI_WEBHOOK_SECRET is not set")
    return value


def parse_event(body):
    event = json.loads(body)
    if not isinstance(event, dict):
        raise VerificationError("the body is not a JSON object")
    return event


def verify_standard_webhook(body, headers, key, now=None):
    """Check a Standard Webhooks signature as OpenAI signs its webhooks.

    The signed content is "{webhook-id}.{webhook-timestamp}.{body}", the HMAC
    key is the base64 after "whsec_" (any other secret is used as its bytes,
    as openai-python does), and webhook-signature lists one or more
    "v1,<base64>" signatures separated by spaces, any of which may match.
    """
    webhook_id = headers.get("webhook-id")
    timestamp = headers.get("webhook-timestamp")
    signatures = headers.get("webhook-signature")
    if not webhook_id or not timestamp or not signatures:
        raise VerificationError("missing webhook-id, webhook-timestamp or webhook-signature")
    try:
        sent = int(timestamp)
    except ValueError:
        raise VerificationError("webhook-timestamp is not Unix seconds") from None
    now = int(time.time()) if now is None else now
    if abs(now - sent) > TOLERANCE_SECONDS:
        raise VerificationError("webhook-timestamp is more than 5 minutes from now")
    if key.startswith("whsec_"):
        try:
            key_bytes = base64.b64decode(key[len("whsec_"):], validate=True)
        except binascii.Error:
            raise VerificationError("OPENAI_WEBHOOK_SECRET is not whsec_ and base64") from None
    else:
        key_bytes = key.encode()
    signed = webhook_id.encode() + b"." + timestamp.encode() + b"." + body
    expected = base64.b64encode(hmac.new(key_bytes, signed, hashlib.sha256).digest())
    for candidate in signatures.split():
        version, _, sig = candidate.partition(",")
        if version == "v1" and hmac.compare_digest(expected, sig.encode()):
            return parse_event(body)
    raise VerificationError("no webhook-signature matches")


@functools.lru_cache(maxsize=1)
def openai_client(key):
    return openai.OpenAI(api_key=os.environ.get("OPENAI_API_KEY", "unused"), webhook_secret=key)


def unwrap(body, headers):
    """Verify and parse a webhook, with openai's unwrap when it is installed."""
    if openai is None:
        return verify_standard_webhook(body, headers, secret())
    try:
        event = openai_client(secret()).webhooks.unwrap(body, headers)
    except openai.InvalidWebhookSignatureError as e:
        raise VerificationError(str(e)) from None
    return {"type": event.type, "id": event.id}


def verify_hex(body, headers, key):
    """Check X-OpenAI-Signature: hex(HMAC-SHA256(secret, body)), the key
    being the secret string's bytes exactly as given."""
    given = headers.get("X-OpenAI-Signature")
    if not given:
        raise VerificationError("missing X-OpenAI-Signature")
    expected = hmac.new(key.encode(), body, hashlib.sha256).hexdigest().encode()
    if not hmac.compare_digest(expected, given.strip().lower().encode()):
        raise VerificationError("X-OpenAI-Signature does not match")
    return parse_event(body)


def answer(scheme, verify):
    body = request.get_data()
    webhook_id = request.headers.get("webhook-id", "-")
    try:
        event = verify(body)
    except (VerificationError, ValueError) as e:
        log.warning("rejected %s webhook %s: %s", scheme, webhook_id, e)
        return jsonify(error=str(e)), 400
    replay = request.headers.get("X-Hookrelay-Replay") == "1"
    log.info("verified %s %s %s (webhook-id %s%s)", scheme, event.get("type"),
             event.get("id"), webhook_id, ", replay" if replay else "")
    return jsonify(verified=True, scheme=scheme, type=event.get("type"), id=event.get("id"))


@app.post("/webhooks/openai")
def standard_webhook():
    return answer("standard", lambda body: unwrap(body, request.headers))


@app.post("/webhooks/openai-hex")
def hex_webhook():
    return answer("hex", lambda body: verify_hex(body, request.headers, secret()))


def main():
    if not os.environ.get("OPENAI_WEBHOOK_SECRET"):
        sys.exit("app.py: set OPENAI_WEBHOOK_SECRET to the secret relay-agent signs with")
    verifier = "openai " + openai.__version__ if openai else "the built-in check"
    log.info("verifying Standard Webhooks with %s", verifier)
    app.run(host=os.environ.get("HOST", "127.0.0.1"), port=int(os.environ.get("PORT", "5000")))


if __name__ == "__main__":
    main()
