"""moto's server, with DynamoDB's operations and SQS's receive made atomic, as AWS's are.

moto's server handles requests on threads, and its DynamoDB backend evaluates a
condition and then writes without a lock, so two concurrent conditional writes (or
transactions) on the same item can both pass their conditions. Real DynamoDB never
allows that, and Pitchside's correctness rests on it (the event log's head, dedup
records, ownership of WhatsApp numbers), so the port suite's concurrency test would
fail at random against plain moto. One lock around the backend's item operations makes
moto as strict as DynamoDB here.

Transactions get the same care for speed. moto rolls a failed transaction back by
restoring a deep copy of every table it touches, taken before it: the whole table,
stream records and all, for each transaction, so a table of 20,000 connections makes
each append take seconds, and a long test suite gigabytes. Here a transaction saves
only the items it names and, if it fails, puts them back and takes the stream records
it added off (as in DynamoDB, a transaction that did not happen leaves no record).

SQS's receive is made atomic too: moto's lets two concurrent receives take the same
message (and, on a FIFO queue, two batches of one message group at once), which SQS
never does; the push path's order rests on it. A receive takes the queue's messages
under one lock and waits outside it, woken by a send (or every 50 ms, for messages
whose visibility timeout ran out), so a long poll blocks no one.

A query reads one partition, as DynamoDB's does. moto's sorts every item of the
table by its keys on each query, keeps the partition's, and walks past the exclusive
start key item by item, so reading a room of 50,000 connections a page at a time cost
seconds a page, most of a fan-out's time in the benchmark. Here a table query (no
index) is handed only its partition, already in key order and starting after the
start key, and moto does the rest (conditions, limits, last key) as it always does.

Its answers are written out the same way, faster. moto's response serializer visits
every member of DynamoDB's AttributeValue shape for every attribute of every item it
returns (ten lookups through its alias providers for one string), about 80% of a
large query's time. An attribute value of a type whose wire form is the value itself
(S, N, BOOL, NULL, SS, NS) is written as it is; the others (B, BS, L, M) go through
moto's serializer as before. And a projection of top-level attributes (what a key's
page asks for) keeps those attributes of the item, where moto's turns the whole item
into plain JSON and back for each item; and the copy moto takes of each result before
it projects copies only what the projection keeps (unless a filter expression, which
reads the copy, is given).

Usage: python infra/moto_server.py -H 127.0.0.1 -p 5000 (the same flags as moto_server).
"""

import base64
import copy
import decimal
import functools
import threading
import time

from moto.dynamodb.comparisons import OpDefault
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.dynamo_type import DynamoType, Item, LimitedSizeDict
from moto.dynamodb.models.table import Table
from moto.core.serialize import BaseJSONSerializer
from moto.server import main
from moto.sqs.models import SQSBackend

_lock = threading.RLock()

# moto's own whole-table copy is not taken (a table "copies" to itself); the wrapper
# below saves and restores what a transaction touches instead.
Table.__deepcopy__ = lambda self, memo: self


def _touched(backend, transact_items):
    """Each item a transaction names: (table, hash, range, a copy of it or None)."""
    saved = []
    for entry in transact_items:
        _, op = next(iter(entry.items()))
        table = backend.tables.get(op.get("TableName"))
        if table is None:
            continue
        key = op.get("Key")
        if key is None and "Item" in op:
            key = {table.hash_key_attr: op["Item"][table.hash_key_attr]}
            if table.range_key_attr is not None:
                key[table.range_key_attr] = op["Item"][table.range_key_attr]
        if key is None:
            continue
        try:
            hash_value, range_value = backend.get_keys_value(table, key)
        except Exception:
            continue
        current = table.get_item(hash_value, range_value)
        saved.append((table, hash_value, range_value, copy.deepcopy(current)))
    return saved


def _restore(saved):
    for table, hash_value, range_value, item in reversed(saved):
        if table.range_key_attr is not None:
            if item is None:
                table.items.get(hash_value, {}).pop(range_value, None)
            else:
                table.items[hash_value][range_value] = item
        else:
            if item is None:
                table.items.pop(hash_value, None)
            else:
                table.items[hash_value] = item


def _rolled_back_by_item(method):
    @functools.wraps(method)
    def wrapper(self, transact_items, *args, **kwargs):
        with _lock:
            saved = _touched(self, transact_items)
            streams = [(t.stream_shard, len(t.stream_shard.items))
                       for t in {id(x[0]): x[0] for x in saved}.values()
                       if t.stream_shard is not None]
            try:
                return method(self, transact_items, *args, **kwargs)
            except Exception:
                _restore(saved)
                for shard, length in streams:
                    del shard.items[length:]
                raise
    return wrapper


for _name in ("put_item", "get_item", "query", "update_item", "delete_item",
              "transact_write_items", "transact_get_items", "batch_write_item"):
    _method = getattr(DynamoDBBackend, _name, None)
    if _method is None:
        continue

    def _atomic(method):
        @functools.wraps(method)
        def wrapper(*args, **kwargs):
            with _lock:
                return method(*args, **kwargs)
        return wrapper

    setattr(DynamoDBBackend, _name, _atomic(_method))

DynamoDBBackend.transact_write_items = _rolled_back_by_item(DynamoDBBackend.transact_write_items)

_scope = threading.local()
_all_items = Table.all_items
_query = Table.query


def _native(value):
    """A key value as Python orders it the way DynamoDB does (numbers by value,
    strings by code point, which is UTF-8 byte order, binary by bytes)."""
    if value.type == "N":
        return decimal.Decimal(value.value)
    if value.type == "B":
        raw = value.value
        return raw if isinstance(raw, bytes) else base64.b64decode(raw)
    return value.value


def _partition_items(self):
    scope = getattr(_scope, "query", None)
    if scope is None or scope[0] is not self:
        return _all_items(self)
    _, hash_key, start = scope
    items = sorted(self.items.get(hash_key, {}).values(), key=lambda i: _native(i.range_key))
    if start is not None:
        after = _native(start)
        items = [i for i in items if _native(i.range_key) > after]
    return items


def _query_partition(self, hash_key, range_comparison, range_objs, limit,
                     exclusive_start_key, scan_index_forward, *args, **kwargs):
    index_name = kwargs.get("index_name", args[1] if len(args) > 1 else None)
    if index_name or hash_key is None or not self.range_key_attr:
        return _query(self, hash_key, range_comparison, range_objs, limit,
                      exclusive_start_key, scan_index_forward, *args, **kwargs)
    start = None
    if exclusive_start_key is not None and scan_index_forward is not False:
        start = DynamoType(exclusive_start_key[self.range_key_attr])
    projection = kwargs.get("projection_expressions", args[0] if args else None)
    filter_expression = kwargs.get("filter_expression", args[3] if len(args) > 3 else None)
    _scope.query = (self, hash_key, start)
    # moto copies every result whole before it projects (and filters) them: with a
    # projection of top-level attributes and no filter expression, the copy needs only
    # what the projection keeps.
    unfiltered = filter_expression is None or isinstance(filter_expression, OpDefault)
    if projection and unfiltered and all(len(p) == 1 for p in projection):
        _scope.keep = {path[0] for path in projection}
    try:
        return _query(self, hash_key, range_comparison, range_objs, limit,
                      exclusive_start_key, scan_index_forward, *args, **kwargs)
    finally:
        _scope.query = None
        _scope.keep = None


Table.all_items = _partition_items
Table.query = _query_partition

_project = Item.project


def _item_keeping(item, names, memo, hash_key, range_key):
    """An item of `item`'s keys and its attributes in `names`, each copied: as moto's
    own copy builds one, without re-checking the size of an item already stored."""
    result = Item.__new__(Item)
    result.hash_key = hash_key
    result.range_key = range_key
    attrs = LimitedSizeDict.__new__(LimitedSizeDict)
    dict.__init__(attrs)
    for name, value in item.attrs.items():
        if names is None or name in names:
            dict.__setitem__(attrs, name, copy.deepcopy(value, memo))
    result.attrs = attrs
    return result


def _project_top_level(self, projection_expressions):
    if not all(len(path) == 1 for path in projection_expressions):
        return _project(self, projection_expressions)
    if getattr(_scope, "keep", None) is not None:
        # A query's result, already copied with only what the projection keeps.
        return self
    names = {path[0] for path in projection_expressions}
    return _item_keeping(self, names, {}, self.hash_key, self.range_key)


_item_deepcopy = Item.__deepcopy__


def _copy_kept(self, memo):
    names = getattr(_scope, "keep", None)
    if names is None:
        return _item_deepcopy(self, memo)
    if id(self) in memo:
        return memo[id(self)]
    result = _item_keeping(self, names, memo, copy.deepcopy(self.hash_key, memo),
                           copy.deepcopy(self.range_key, memo))
    memo[id(self)] = result
    return result


Item.project = _project_top_level
Item.__deepcopy__ = _copy_kept

_WRITTEN_AS_IS = frozenset(("S", "N", "BOOL", "NULL", "SS", "NS"))
_DYNAMODB = frozenset(("dynamodb", "dynamodbstreams"))
_structure = BaseJSONSerializer._serialize_type_structure


def _attribute_value_as_is(self, serialized, value, shape, key):
    if (shape.name == "AttributeValue" and isinstance(value, dict) and len(value) == 1
            and next(iter(value)) in _WRITTEN_AS_IS
            and self.operation_model.service_model.service_name in _DYNAMODB):
        self._default_serialize(serialized, value, shape, key)
        return
    _structure(self, serialized, value, shape, key)


BaseJSONSerializer._serialize_type_structure = _attribute_value_as_is

_receive_lock = threading.Lock()
_receive = SQSBackend.receive_message


def _receive_atomically(self, queue_name, count, wait_seconds_timeout, visibility_timeout,
                        message_attribute_names=None):
    end = time.monotonic() + (wait_seconds_timeout or 0)
    while True:
        with _receive_lock:
            got = _receive(self, queue_name, count, 0, visibility_timeout, message_attribute_names)
        left = end - time.monotonic()
        if got or left <= 0:
            return got
        queue = self.get_queue(queue_name)
        with queue._messages_lock:
            queue._messages_lock.wait(timeout=min(0.05, left))


SQSBackend.receive_message = _receive_atomically

if __name__ == "__main__":
    main()
