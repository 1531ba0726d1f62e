#!/usr/bin/env python3
"""What the AWS push path costs, from the bench's push-path figures.

Reads the JSON line `make bench` (or `BENCH_ONLY=push target/gateway/bench`) prints, on
stdin, and prints docs/COSTS.md's tables: the calls the simulation counted per event,
priced at AWS's published prices below. Usage:

    BENCH_ONLY=push target/gateway/bench | tail -1 | python3 scripts/costs.py
"""

import json
import math
import sys

# us-east-1, on-demand, as published on AWS's pricing pages (read 2026-12-02):
# aws.amazon.com/lambda/pricing, /sqs/pricing, /dynamodb/pricing/on-demand,
# /api-gateway/pricing.
PRICES = {
    "lambda_request": 0.20 / 1e6,        # per invocation
    "lambda_gb_second_arm64": 0.0000133334,
    "sqs_fifo_request": 0.50 / 1e6,      # each 64 KB of a request's payload is one request
    "dynamodb_rru": 0.125 / 1e6,         # read request unit: 4 KB strongly consistent
    "dynamodb_wru": 0.625 / 1e6,         # write request unit: 1 KB; a transaction's are doubled
    "apigw_ws_message": 1.00 / 1e6,      # per message of up to 32 KB (first billion a month)
    "apigw_ws_connection_minute": 0.25 / 1e6,
}
PUSH_GB, FANOUT_GB = 1.0, 0.25           # the template's MemorySize for push and fanout
EVENT_BYTES = 420                        # a match.score.updated envelope, about
ROOM_ROW_BYTES = 80                      # a room row: pk ROOM#org#org, sk the id, expiresAt
ID_BYTES = 19                            # a connection id in a chunk's body, quoted


def per_event(r):
    n = r["events"]
    live = r["connections"] - r["gone"]
    chunk_bytes = 16 * EVENT_BYTES + r["connections"] * ID_BYTES
    sends = max(r["requests"].get("AmazonSQS.SendMessageBatch", 0) / n, math.ceil(chunk_bytes / 65536))
    receives = max(r["requests"].get("AmazonSQS.ReceiveMessage", 0) / n, math.ceil(chunk_bytes / 65536))
    # Lambda's event source mapping deletes a batch in one DeleteMessageBatch.
    deletes = r["pushInvocations"] / n
    sqs = sends + receives + deletes
    # fanout: the event (one read) and the room's rows, read consistently; push: a gone
    # connection is looked up and its two rows deleted in a transaction.
    rru = 1 + math.ceil(r["connections"] * ROOM_ROW_BYTES / 4096) + r["gone"] / n
    wru = 4 * r["gone"] / n
    gb_s = (r["pushSeconds"] * PUSH_GB + r["fanoutSeconds"] * FANOUT_GB) / n
    invocations = (r["fanoutInvocations"] + r["pushInvocations"]) / n
    messages = live  # each live connection's one delivered post; a 429 is not a message
    cost = {
        "lambda requests": invocations * PRICES["lambda_request"],
        "lambda GB-s": gb_s * PRICES["lambda_gb_second_arm64"],
        "SQS": sqs * PRICES["sqs_fifo_request"],
        "DynamoDB": rru * PRICES["dynamodb_rru"] + wru * PRICES["dynamodb_wru"],
        "API Gateway messages": messages * PRICES["apigw_ws_message"],
    }
    counts = {"invocations": invocations, "GB-s": gb_s, "SQS requests": sqs,
              "RRU": rru, "WRU": wru, "messages": messages}
    return counts, cost


def main():
    doc = json.loads(sys.stdin.read().strip().splitlines()[-1])
    rounds = doc["pushPath"]["rounds"]
    print("| room | throttled | invocations | GB-s | SQS requests | RRU | WRU | API Gateway messages | cost of one event |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for r in rounds:
        counts, cost = per_event(r)
        print(f"| {r['connections']:,} | {r['throttle']:.0%} | {counts['invocations']:.1f} | {counts['GB-s']:.2f} | "
              f"{counts['SQS requests']:.1f} | {counts['RRU']:.0f} | {counts['WRU']:.1f} | {counts['messages']:,} | "
              f"${sum(cost.values()):.5f} |")
    ten = next(r for r in rounds if r["connections"] == 10_000 and r["throttle"] > 0)
    counts, cost = per_event(ten)
    print("\nOne event to a room of 10,000:")
    for k, v in cost.items():
        print(f"- {k}: ${v:.6f}")
    print(f"- total: ${sum(cost.values()):.5f}")

    two = next(r for r in rounds if r["connections"] == 2_000)
    counts, cost = per_event(two)
    balls, viewers, minutes = 300, 2_000, 180
    evening = {k: v * balls for k, v in cost.items()}
    evening["API Gateway connection-minutes"] = viewers * minutes * PRICES["apigw_ws_connection_minute"]
    # The push queue's event source mapping long-polls while idle: 5 pollers, 20 s each.
    evening["SQS idle polling"] = 5 * 3 * minutes * PRICES["sqs_fifo_request"]
    print(f"\nAn evening: {balls} balls to {viewers:,} viewers on WebSocket for {minutes // 60} hours:")
    for k, v in evening.items():
        print(f"- {k}: ${v:.4f}")
    print(f"- total: ${sum(evening.values()):.2f}")


if __name__ == "__main__":
    main()
