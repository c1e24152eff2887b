"""OpenTelemetry traces: one sign-up is one trace, from the gateway's HTTP request through the
command, the worker's handling, the event relayed and handled, to the notification sent.

Tracing is off (every hook a check of one global and nothing more) unless
``OTEL_EXPORTER_OTLP_ENDPOINT`` is set; then each process exports its spans there over
OTLP/HTTP. The W3C ``traceparent`` travels where the correlation id travels: in command
envelopes, in the outbox rows and event envelopes, and in delivery jobs. Work done in batches
(commands, relayed and handled events) gets one span per item, each in its own trace.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any, TypeVar

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import Span, SpanKind, Status, StatusCode
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider

    from services.common.settings import Settings

__all__ = ["Span", "SpanKind"]

T = TypeVar("T")
Attributes = Mapping[str, str | int | float | bool]

_PROPAGATOR = TraceContextTextMapPropagator()
_TRACEPARENT = "traceparent"
_SCOPE = "linli"
_OFF: AbstractContextManager[Any] = contextlib.nullcontext()
# The tracer of this process and its provider; None: tracing is off.
_tracer: trace.Tracer | None = None
_provider: trace.TracerProvider | None = None


def enabled() -> bool:
    return _tracer is not None


def use(provider: trace.TracerProvider | None) -> None:
    """Trace into ``provider`` from now on (None: stop tracing). Processes call
    ``configure_tracing``; a test installs a provider with an in-memory exporter."""
    global _tracer, _provider
    _tracer = provider.get_tracer(_SCOPE) if provider is not None else None
    _provider = provider


def flush(timeout_s: float = 5.0) -> None:
    """Send the spans still batched, as a process stops: the gateway's server ends by raising
    the signal it caught again, so exit hooks (the SDK's own flush) do not run."""
    force_flush = getattr(_provider, "force_flush", None)
    if force_flush is not None:
        force_flush(int(timeout_s * 1000))


def traces_url(endpoint: str) -> str:
    """The OTLP/HTTP traces URL under a collector's base endpoint, as the OTEL_EXPORTER_OTLP_ENDPOINT
    convention has it (the exporter takes the full URL when given one explicitly)."""
    return endpoint.rstrip("/") + "/v1/traces"


def configure_tracing(settings: Settings, service: str) -> TracerProvider | None:
    """Export this process's spans to the configured OTLP endpoint; without one, tracing stays
    off and the SDK is not even imported. Returns the provider (None: off)."""
    if not settings.otel_exporter_otlp_endpoint:
        return None
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor
    from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased

    provider = TracerProvider(
        resource=Resource.create(
            {"service.name": f"linli-{service}", "service.namespace": settings.namespace}
        ),
        sampler=ParentBased(TraceIdRatioBased(settings.otel_sample_ratio)),
    )
    exporter = OTLPSpanExporter(endpoint=traces_url(settings.otel_exporter_otlp_endpoint))
    provider.add_span_processor(BatchSpanProcessor(exporter))  # flushed at exit by the SDK
    use(provider)
    return provider


def _parent(traceparent: str | None) -> otel_context.Context | None:
    if not traceparent:
        return None
    return _PROPAGATOR.extract({_TRACEPARENT: traceparent})


def traceparent_of(span: Span) -> str | None:
    """The W3C ``traceparent`` naming ``span`` as the parent of work done elsewhere."""
    carrier: dict[str, str] = {}
    _PROPAGATOR.inject(carrier, context=trace.set_span_in_context(span))
    return carrier.get(_TRACEPARENT)


def current_traceparent() -> str | None:
    """The ``traceparent`` of the current span, to carry in an envelope; None when off."""
    if _tracer is None:
        return None
    return traceparent_of(trace.get_current_span())


def current_trace_id() -> str | None:
    """The current trace's id (32 hex digits) for log lines; None when off or outside a trace."""
    if _tracer is None:
        return None
    found = trace.get_current_span().get_span_context()
    return trace.format_trace_id(found.trace_id) if found.is_valid else None


def span(
    name: str,
    service: str,
    kind: SpanKind = SpanKind.INTERNAL,
    parent: str | None = None,
    attributes: Attributes | None = None,
) -> AbstractContextManager[Span | None]:
    """A span made current for the block, under ``parent`` (a traceparent) if given, else under
    the current span; yields None when tracing is off. ``service``: who does the work."""
    if _tracer is None:
        return _OFF
    return _tracer.start_as_current_span(
        name,
        context=_parent(parent),
        kind=kind,
        attributes={"linli.service": service, **(attributes or {})},
    )


@contextlib.contextmanager
def _batch_spans(
    tracer: trace.Tracer,
    items: Sequence[T],
    name: Callable[[T], str],
    parent: Callable[[T], str | None],
    rebind: Callable[[T, str | None], T],
    service: str,
    kind: SpanKind,
    attributes: Callable[[T], Attributes] | None,
) -> Iterator[Sequence[T]]:
    spans = [
        tracer.start_span(
            name(item),
            context=_parent(parent(item)),
            kind=kind,
            attributes={
                "linli.service": service,
                "linli.batch_size": len(items),
                **(attributes(item) if attributes else {}),
            },
        )
        for item in items
    ]
    rebound = [rebind(item, traceparent_of(s)) for item, s in zip(items, spans, strict=True)]
    # One item: its span is the current one too (what the work does is in its trace).
    token = otel_context.attach(trace.set_span_in_context(spans[0])) if len(spans) == 1 else None
    try:
        yield rebound
    except BaseException as exc:
        for s in spans:
            s.record_exception(exc)
            s.set_status(Status(StatusCode.ERROR, f"{type(exc).__name__}: {exc}"))
        raise
    finally:
        if token is not None:
            otel_context.detach(token)
        for s in spans:
            s.end()


def batch_spans(
    items: Sequence[T],
    name: Callable[[T], str],
    parent: Callable[[T], str | None],
    rebind: Callable[[T, str | None], T],
    service: str,
    kind: SpanKind = SpanKind.CONSUMER,
    attributes: Callable[[T], Attributes] | None = None,
) -> AbstractContextManager[Sequence[T]]:
    """One span per item of a batch handled together, each under the item's own ``parent``
    traceparent, all ending with the block. Yields the items rebound to their spans' traceparents
    (what the work hands on continues each item's trace); the items themselves when off."""
    if _tracer is None or not items:
        return contextlib.nullcontext(items)
    return _batch_spans(_tracer, items, name, parent, rebind, service, kind, attributes)
