"""GraphQL documents read once: parsed and validated, kept by their text in a bounded cache, so
that the few documents clients send over and over are not parsed and validated again."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

from graphql import ASTValidationRule, DocumentNode, GraphQLError, GraphQLSchema, parse
from prometheus_client import Counter
from strawberry.schema.schema import validate_document

# A parsed document costs ~100 bytes per character of its text (its nodes and tokens), so the
# cache is bounded by text as well as by entries: at most ~30 MB whatever strangers send.
MAX_ENTRIES = 256
MAX_DOCUMENT_CHARS = 8192  # the longest document Linli's pages send is ~1 KB
MAX_TOTAL_CHARS = 256 * 1024

# Not linli_graphql_*: those series are per operation (tests/test_metrics_bounded.py).
DOCUMENT_CACHE = Counter(
    "linli_document_cache_total",
    "GraphQL documents looked up in the gateway's cache (hit, miss, or too long to keep)",
    ["outcome"],
)
_HIT, _MISS, _TOO_LONG = (DOCUMENT_CACHE.labels(o) for o in ("hit", "miss", "too_long"))


@dataclass(frozen=True, slots=True)
class Prepared:
    """A document as read: its syntax tree (None when it did not parse) and the errors that
    refuse it (the syntax error, or what validation found), the same on every request."""

    document: DocumentNode | None
    errors: tuple[GraphQLError, ...]


class DocumentCache:
    """Least recently used documents of one schema, read with one set of rules (parse limits and
    validation rules are part of what a cached answer means, so they are fixed here)."""

    def __init__(
        self,
        schema: GraphQLSchema,
        rules: tuple[type[ASTValidationRule], ...],
        max_tokens: int,
        max_entries: int = MAX_ENTRIES,
        max_document_chars: int = MAX_DOCUMENT_CHARS,
        max_total_chars: int = MAX_TOTAL_CHARS,
    ) -> None:
        self.schema = schema
        self.rules = rules
        self.max_tokens = max_tokens
        self.max_entries = max_entries
        self.max_document_chars = max_document_chars
        self.max_total_chars = max_total_chars
        self._entries: OrderedDict[str, Prepared] = OrderedDict()
        self._chars = 0

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def chars(self) -> int:
        return self._chars

    def prepared(self, query: str) -> Prepared:
        entry = self._entries.get(query)
        if entry is not None:
            self._entries.move_to_end(query)
            _HIT.inc()
            return entry
        entry = self.prepare(query)
        if len(query) > self.max_document_chars:
            _TOO_LONG.inc()
            return entry
        _MISS.inc()
        self._entries[query] = entry
        self._chars += len(query)
        while len(self._entries) > self.max_entries or self._chars > self.max_total_chars:
            evicted, _ = self._entries.popitem(last=False)
            self._chars -= len(evicted)
        return entry

    def prepare(self, query: str) -> Prepared:
        """Read ``query`` as strawberry's pipeline does (``parse`` with the token limit, then
        ``validate_document`` with the same rules), without keeping it."""
        try:
            document = parse(query, max_tokens=self.max_tokens)
        except GraphQLError as error:
            return Prepared(None, (error,))
        return Prepared(document, tuple(validate_document(self.schema, document, self.rules)))
