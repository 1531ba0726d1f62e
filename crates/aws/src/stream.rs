//! The table's stream as the fan-out reads it: each change of an organization's LOG
//! item is a move of its head, and the events it moved over are the ones to push.
//! DynamoDB keeps one item's changes in order in its stream, so an organization's moves
//! arrive in log order. The `fanout` function gets them from Lambda's event source
//! mapping (as JSON); the local gateway in AWS mode reads the stream itself
//! ([`LogStream`]) as that mapping would.

use super::dynamo::unavailable;
use super::keys;
use aws_sdk_dynamodbstreams::types::{AttributeValue, ShardIteratorType};
use pitchside_core::ports::{StoreError, StoreResult};
use pitchside_domain::event::EventId;
use pitchside_domain::ids::OrganizationId;
use serde_json::Value;
use std::collections::HashMap;
use std::time::Duration;

/// A move of one organization's log head: the events after `after` up to `upto`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogMove {
    pub org: OrganizationId,
    pub after: EventId,
    pub upto: EventId,
}

/// The move a change of an item is, given its keys and the `head` before and after:
/// `None` for any other item, or a change that did not move the head forward (what
/// retention writes to the LOG item, its TTL removal).
pub fn log_move(
    pk: &str,
    sk: &str,
    old_head: Option<u64>,
    new_head: Option<u64>,
) -> Option<LogMove> {
    if sk != keys::LOG {
        return None;
    }
    let org = OrganizationId::new(pk.strip_prefix("ORG#")?).ok()?;
    let after = old_head.unwrap_or(0);
    let upto = new_head?;
    (upto > after).then_some(LogMove {
        org,
        after: EventId(after),
        upto: EventId(upto),
    })
}

/// One record of a DynamoDB stream event as Lambda delivers it: its sequence number
/// (what a batch item failure names) and the move it is, if any.
pub fn lambda_record(record: &Value) -> (String, Option<LogMove>) {
    let d = &record["dynamodb"];
    let seq = d["SequenceNumber"].as_str().unwrap_or_default().to_string();
    let s = |v: &Value| v["S"].as_str().map(str::to_string);
    let n = |v: &Value| v["N"].as_str().and_then(|n| n.parse::<u64>().ok());
    let moved = match (s(&d["Keys"][keys::PK]), s(&d["Keys"][keys::SK])) {
        (Some(pk), Some(sk)) => log_move(
            &pk,
            &sk,
            n(&d["OldImage"]["head"]),
            n(&d["NewImage"]["head"]),
        ),
        _ => None,
    };
    (seq, moved)
}

fn sdk_record(r: &aws_sdk_dynamodbstreams::types::Record) -> Option<LogMove> {
    let d = r.dynamodb()?;
    let s = |m: Option<&HashMap<String, AttributeValue>>, k: &str| {
        m.and_then(|m| m.get(k))
            .and_then(|v| v.as_s().ok())
            .cloned()
    };
    let n = |m: Option<&HashMap<String, AttributeValue>>| {
        m.and_then(|m| m.get("head"))
            .and_then(|v| v.as_n().ok())
            .and_then(|n| n.parse::<u64>().ok())
    };
    log_move(
        &s(d.keys(), keys::PK)?,
        &s(d.keys(), keys::SK)?,
        n(d.old_image()),
        n(d.new_image()),
    )
}

/// Reads a table's stream from its latest records on, shard by shard, as Lambda's
/// event source mapping does: the local gateway's stand-in for it.
pub struct LogStream {
    client: aws_sdk_dynamodbstreams::Client,
    arn: String,
    /// Each open shard's next iterator.
    shards: HashMap<String, Option<String>>,
    started: bool,
    discovered: std::time::Instant,
}

/// How often the shards are listed again (a split adds new ones).
const DISCOVER_EVERY: Duration = Duration::from_secs(5);

impl LogStream {
    /// The stream of `table` (which must have one: `bootstrap::create_table` enables it).
    pub async fn open(sdk: &aws_config::SdkConfig, table: &str) -> StoreResult<LogStream> {
        let described = aws_sdk_dynamodb::Client::new(sdk)
            .describe_table()
            .table_name(table)
            .send()
            .await
            .map_err(unavailable)?;
        let arn = described
            .table()
            .and_then(|t| t.latest_stream_arn())
            .ok_or_else(|| {
                StoreError::unavailable(format!(
                    "table {table} has no stream: the push path needs one (NEW_AND_OLD_IMAGES)"
                ))
            })?
            .to_string();
        let mut stream = LogStream {
            client: aws_sdk_dynamodbstreams::Client::new(sdk),
            arn,
            shards: HashMap::new(),
            started: false,
            discovered: std::time::Instant::now(),
        };
        stream.discover().await?;
        stream.started = true;
        Ok(stream)
    }

    /// Adds the shards not seen yet: at their latest record when the stream is opened,
    /// from their start when they appear later (a shard split), so nothing is skipped.
    async fn discover(&mut self) -> StoreResult<()> {
        let out = self
            .client
            .describe_stream()
            .stream_arn(&self.arn)
            .send()
            .await
            .map_err(unavailable)?;
        let shards: Vec<String> = out
            .stream_description()
            .map(|d| {
                d.shards()
                    .iter()
                    .filter_map(|s| s.shard_id().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        self.discovered = std::time::Instant::now();
        for id in shards {
            if self.shards.contains_key(&id) {
                continue;
            }
            let kind = if self.started {
                ShardIteratorType::TrimHorizon
            } else {
                ShardIteratorType::Latest
            };
            let it = self
                .client
                .get_shard_iterator()
                .stream_arn(&self.arn)
                .shard_id(&id)
                .shard_iterator_type(kind)
                .send()
                .await
                .map_err(unavailable)?;
            self.shards
                .insert(id, it.shard_iterator().map(str::to_string));
        }
        Ok(())
    }

    /// The moves recorded since the last call, in stream order per shard; waits
    /// `idle` first when there were none.
    pub async fn next(&mut self, idle: Duration) -> StoreResult<Vec<LogMove>> {
        let mut moves = Vec::new();
        let ids: Vec<String> = self.shards.keys().cloned().collect();
        for id in ids {
            let Some(Some(it)) = self.shards.get(&id).cloned() else {
                continue;
            };
            let out = self
                .client
                .get_records()
                .shard_iterator(it)
                .send()
                .await
                .map_err(unavailable)?;
            moves.extend(out.records().iter().filter_map(sdk_record));
            self.shards
                .insert(id, out.next_shard_iterator().map(str::to_string));
        }
        if moves.is_empty() {
            tokio::time::sleep(idle).await;
            if self.discovered.elapsed() >= DISCOVER_EVERY {
                self.discover().await?;
            }
        }
        Ok(moves)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_forward_move_of_a_log_head_is_a_move() {
        let org = OrganizationId::new("club").unwrap();
        assert_eq!(
            log_move("ORG#club", "LOG", Some(4), Some(6)),
            Some(LogMove {
                org: org.clone(),
                after: EventId(4),
                upto: EventId(6)
            })
        );
        assert_eq!(
            log_move("ORG#club", "LOG", None, Some(1)),
            Some(LogMove {
                org,
                after: EventId(0),
                upto: EventId(1)
            })
        );
        assert_eq!(log_move("ORG#club", "LOG", Some(6), Some(6)), None);
        assert_eq!(log_move("ORG#club", "LOG", Some(6), None), None);
        assert_eq!(log_move("ORG#club", "PROFILE", None, Some(1)), None);
        assert_eq!(log_move("EVT#club", "LOG", None, Some(1)), None);
    }

    #[test]
    fn a_lambda_stream_record_gives_its_sequence_number_and_its_move() {
        let record: Value = serde_json::json!({
            "eventName": "MODIFY",
            "dynamodb": {
                "Keys": {"pk": {"S": "ORG#club"}, "sk": {"S": "LOG"}},
                "OldImage": {"pk": {"S": "ORG#club"}, "sk": {"S": "LOG"}, "head": {"N": "11"}},
                "NewImage": {"pk": {"S": "ORG#club"}, "sk": {"S": "LOG"}, "head": {"N": "12"}},
                "SequenceNumber": "111", "StreamViewType": "NEW_AND_OLD_IMAGES"
            }
        });
        let (seq, moved) = lambda_record(&record);
        assert_eq!(seq, "111");
        assert_eq!(moved.unwrap().upto, EventId(12));
    }
}
