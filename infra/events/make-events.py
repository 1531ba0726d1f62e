#!/usr/bin/env python3
"""Writes the sample events in this folder: Lambda payloads for each function, signed
and tokened with the SAMPLE values below (for samples and tests only; they protect
nothing). Run it again after changing a value: python3 infra/events/make-events.py"""

import base64, hashlib, hmac, json, os

HERE = os.path.dirname(os.path.abspath(__file__))
SAMPLE = {
    "PITCHSIDE_JWT_SECRET": "sample-jwt-secret-for-the-sample-events-only",
    "PITCHSIDE_WHATSAPP_APP_SECRET": "sample-whatsapp-app-secret",
    "PITCHSIDE_WHATSAPP_VERIFY_TOKEN": "sample-verify-token",
    "PITCHSIDE_ADMIN_API_KEY": "sample-admin-api-key-0123",
}
ORG, PHONE, PLAYER_WA, USER = "club-sample", "100000000000099", "919800000099", "sample-admin"
EPOCH_MS = 1795676102000


def b64url(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def token():
    header = b64url(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
    claims = {"sub": USER, "org": ORG, "roles": ["admin", "viewer"], "name": "Sample Admin", "exp": 4102444800}
    body = b64url(json.dumps(claims, separators=(",", ":")).encode())
    sig = hmac.new(SAMPLE["PITCHSIDE_JWT_SECRET"].encode(), f"{header}.{body}".encode(), hashlib.sha256).digest()
    return f"{header}.{body}.{b64url(sig)}"


def notification(wamid, text):
    return json.dumps({
        "object": "whatsapp_business_account",
        "entry": [{"id": "waba-sample", "changes": [{"field": "messages", "value": {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "15550009999", "phone_number_id": PHONE},
            "contacts": [{"profile": {"name": "Sample Player"}, "wa_id": PLAYER_WA}],
            "messages": [{"from": PLAYER_WA, "id": wamid, "timestamp": str(EPOCH_MS // 1000),
                          "type": "text", "text": {"body": text}}]}}]}]}, separators=(",", ":"))


def http(method, path, query=None, headers=None, body=None):
    query = query or {}
    return {
        "version": "2.0", "routeKey": "$default", "rawPath": path,
        "rawQueryString": "&".join(f"{k}={v}" for k, v in query.items()),
        "headers": headers or {}, **({"queryStringParameters": query} if query else {}),
        "requestContext": {
            "accountId": "123456789012", "apiId": "sample", "domainName": "sample.execute-api.us-east-1.amazonaws.com",
            "domainPrefix": "sample", "requestId": "sample-request", "routeKey": "$default", "stage": "$default",
            "time": "26/Nov/2026:07:15:02 +0000", "timeEpoch": EPOCH_MS,
            "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "192.0.2.1", "userAgent": "sample"},
        },
        **({"body": body} if body is not None else {}), "isBase64Encoded": False,
    }


def ws(route, event_type, headers=None, body=None, query=None):
    ctx = {
        "routeKey": route, "eventType": event_type, "messageDirection": "IN", "stage": "prod",
        "connectedAt": EPOCH_MS, "requestTimeEpoch": EPOCH_MS, "requestTime": "26/Nov/2026:07:15:02 +0000",
        "identity": {"sourceIp": "192.0.2.1"}, "requestId": "sample-ws-request", "extendedRequestId": "sample-ws-request",
        "domainName": "sample.execute-api.us-east-1.amazonaws.com", "connectionId": "sample-connection=", "apiId": "sample",
    }
    event = {"requestContext": ctx, "isBase64Encoded": False}
    if headers:
        event["headers"] = headers
        event["multiValueHeaders"] = {k: [v] for k, v in headers.items()}
    if query:
        event["queryStringParameters"] = query
        event["multiValueQueryStringParameters"] = {k: [v] for k, v in query.items()}
    if body is not None:
        event["body"] = body
    return event


def log_head_moved(old, new):
    """A change of the organization's LOG item on the table's stream, as Lambda hands it
    to the fanout function (NEW_AND_OLD_IMAGES)."""
    image = lambda head: {"pk": {"S": f"ORG#{ORG}"}, "sk": {"S": "LOG"}, "head": {"N": str(head)}}
    return {
        "eventID": "c81e728d9d4c2f636f067f89cc14862c", "eventName": "MODIFY", "eventVersion": "1.1",
        "eventSource": "aws:dynamodb", "awsRegion": "us-east-1",
        "dynamodb": {
            "ApproximateCreationDateTime": EPOCH_MS // 1000,
            "Keys": {"pk": {"S": f"ORG#{ORG}"}, "sk": {"S": "LOG"}},
            "NewImage": image(new), "OldImage": image(old),
            "SequenceNumber": f"1111{new:020d}", "SizeBytes": 98,
            "StreamViewType": "NEW_AND_OLD_IMAGES",
        },
        "eventSourceARN": "arn:aws:dynamodb:us-east-1:123456789012:table/pitchside/stream/2026-11-26T07:00:00.000",
    }


def main():
    bearer = {"authorization": f"Bearer {token()}"}
    body = notification("wamid.sample-1", "Yes, I can play on Saturday")
    signature = "sha256=" + hmac.new(SAMPLE["PITCHSIDE_WHATSAPP_APP_SECRET"].encode(), body.encode(), hashlib.sha256).hexdigest()
    work = json.dumps({"kind": "whatsapp.notification", "receivedAt": "2026-11-26T07:15:02.311Z",
                       "requestId": "sample-request", "body": base64.b64encode(notification("wamid.sample-2", "maybe").encode()).decode()})
    events = {
        "webhook-verify.json": http("GET", "/whatsapp/webhook", {"hub.mode": "subscribe", "hub.verify_token": SAMPLE["PITCHSIDE_WHATSAPP_VERIFY_TOKEN"], "hub.challenge": "1158201444"}),
        "webhook-post.json": http("POST", "/whatsapp/webhook", headers={"content-type": "application/json", "x-hub-signature-256": signature}, body=body),
        "webhook-forged.json": http("POST", "/whatsapp/webhook", headers={"content-type": "application/json", "x-hub-signature-256": "sha256=" + "0" * 64}, body=body),
        "worker-sqs.json": {"Records": [
            {"messageId": "sample-good", "receiptHandle": "r1", "body": work, "attributes": {"ApproximateReceiveCount": "1"}, "messageAttributes": {}, "md5OfBody": "", "eventSource": "aws:sqs", "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:pitchside-inbound", "awsRegion": "us-east-1"},
            {"messageId": "sample-bad", "receiptHandle": "r2", "body": "this is not queued work", "attributes": {"ApproximateReceiveCount": "1"}, "messageAttributes": {}, "md5OfBody": "", "eventSource": "aws:sqs", "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:pitchside-inbound", "awsRegion": "us-east-1"},
        ]},
        "api-catch-up.json": http("GET", "/events/catch-up", {"after": "0"}, headers=bearer),
        "sse-events.json": http("GET", "/sse/events", {"lastEventId": "0"}, headers={**bearer, "accept": "text/event-stream"}),
        "ws-connect.json": ws("$connect", "CONNECT", headers={"Authorization": bearer["authorization"], "Host": "sample.execute-api.us-east-1.amazonaws.com"}),
        "ws-ping.json": ws("$default", "MESSAGE", body=json.dumps({"action": "ping", "requestId": "r1"})),
        "ws-disconnect.json": ws("$disconnect", "DISCONNECT"),
        "fanout-dynamodb-stream.json": {"Records": [log_head_moved(1, 2)]},
    }
    for name, event in events.items():
        with open(os.path.join(HERE, name), "w") as f:
            json.dump(event, f, indent=2)
            f.write("\n")
    with open(os.path.join(HERE, "sample-env.json"), "w") as f:
        json.dump({"values": SAMPLE, "organization": ORG, "phoneNumberId": PHONE, "playerWhatsapp": PLAYER_WA, "user": USER}, f, indent=2)
        f.write("\n")


if __name__ == "__main__":
    main()
