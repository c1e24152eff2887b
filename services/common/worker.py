"""One worker process per service: its command consumer, its arq jobs and its outbox relay.

Resources (settings, pool, Redis) live in one ``ctx`` dict handed to every handler, never in
globals. Commands come from the service's command stream (see ``services.common.commands``);
events and deferred jobs from its arq queue, when it has any arq jobs.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import signal
from collections.abc import Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import uvloop
from arq.constants import in_progress_key_prefix
from arq.cron import CronJob
from arq.worker import Function, Retry, Worker

from services.common import tracing
from services.common.clock import now
from services.common.commands import Command, CommandConsumer
from services.common.db import create_pool
from services.common.health import serve_health
from services.common.heap import settle_after_start_up
from services.common.observability import JOB_WAIT
from services.common.outbox import EVENT_HANDLER, handling, run_relay
from services.common.queue import create_redis
from services.common.redelivery import run_redelivery
from services.common.settings import Settings

log = logging.getLogger("linli.worker")


@dataclass(frozen=True)
class ServiceWorker:
    """What a service's worker runs: its commands and jobs, and where its events go."""

    name: str
    functions: Sequence[Function | Command]
    # consumer service -> event types it takes from this service's outbox
    routes: Mapping[str, Sequence[str]] = field(default_factory=dict)
    # consumers (of routes) that record every event they handle in their processed_events:
    # events Redis lost on the way to them are sent again (services/common/redelivery.py)
    confirmed_by: Sequence[str] = ()
    # arq cron jobs (sweeps): each process runs its own copies, named within the namespace so that
    # deployments sharing a Redis do not take each other's turns
    cron_jobs: Sequence[CronJob] = ()
    # loops the worker runs for its whole life beside its commands and jobs, each given ``ctx``
    # (cancelled at shutdown: whatever they hold must survive that, e.g. an open transaction)
    loops: Sequence[Callable[[dict[str, Any]], Coroutine[Any, Any, None]]] = ()


_READINESS_TIMEOUT_S = 2.0
DEFAULT_MAX_TRIES = 5  # arq's own default, when a job does not name its own


def retried_on_failure(job: Function) -> Function:
    """The job, tried again later when it fails (PostgreSQL or Redis away, say).

    arq retries only a job that raises ``Retry``; anything else ends it as failed for good, and
    an event batch, a reminder or a scheduled close would be lost. Backoff doubles up to a
    minute, so the default tries outlast a restart of either server.
    """
    tries = job.max_tries or DEFAULT_MAX_TRIES
    run = job.coroutine

    async def with_retries(ctx: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
        try:
            return await run(ctx, *args, **kwargs)
        except Retry:
            raise
        except Exception as exc:
            attempt = int(ctx.get("job_try") or 1)
            if attempt >= tries:
                log.exception("job %s failed for the last time (try %s of %s)", job.name, attempt, tries)
                raise
            log.warning("job %s failed (try %s of %s); trying again", job.name, attempt, tries, exc_info=True)
            raise Retry(defer=min(2.0**attempt, 60.0)) from exc

    return dataclasses.replace(job, coroutine=with_retries)


def traced_events(job: Function, service: str) -> Function:
    """The event handler job, each event of its batch handled in a span of the event's own trace
    (see ``services.common.tracing``); any other job as it is."""
    if job.name != EVENT_HANDLER:
        return job
    run = job.coroutine

    async def in_spans(ctx: dict[str, Any], events: list[dict[str, Any]], *args: Any, **kwargs: Any) -> Any:
        with handling(service, events) as traced:
            return await run(ctx, list(traced), *args, **kwargs)

    return dataclasses.replace(job, coroutine=in_spans)


class _RecordingWorker(Worker):
    """arq's worker, noting each job it takes until it has recorded the job's end (see
    ``ServiceProcess._free_stranded_jobs``)."""

    def __init__(self, unrecorded: dict[str, asyncio.Task[Any]], **options: Any) -> None:
        super().__init__(**options)
        self._unrecorded = unrecorded

    async def run_job(self, job_id: str, score: int) -> None:
        running = asyncio.current_task()  # arq runs each job in a task of its own
        if running is not None:
            self._unrecorded[job_id] = running
        await super().run_job(job_id, score)  # raises if Redis failed it before the end was kept
        self._unrecorded.pop(job_id, None)


class ServiceProcess:
    """A running worker: ``await async_run()`` until ``await close()``; ``run()`` for a process."""

    def __init__(self, service: ServiceWorker, settings: Settings, **arq_options: Any) -> None:
        assert settings.database_url and settings.redis_url, "servers must be resolved first"
        self.service = service
        self.settings = settings
        self.commands = [f for f in service.functions if isinstance(f, Command)]
        self.jobs = [f for f in service.functions if not isinstance(f, Command)]
        self.arq_options = arq_options
        self.ctx: dict[str, Any] = {}
        self._closed = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._consumer: CommandConsumer | None = None
        self._arq: Worker | None = None
        # Jobs taken here whose end arq has not recorded yet, with the task running each.
        self._unrecorded: dict[str, asyncio.Task[Any]] = {}
        self._health: asyncio.Server | None = None

    async def async_run(self) -> None:
        settings, service = self.settings, self.service
        assert settings.database_url and settings.redis_url
        queue_name = settings.queue(service.name)
        redis = await create_redis(settings.redis_url)
        pool = await create_pool(settings.database_url, settings.db_pool_min, settings.db_pool_max)
        self.ctx.update(settings=settings, queue_name=queue_name, redis=redis, pool=pool)
        try:
            if self.commands:
                self._consumer = CommandConsumer(redis, settings, service.name, self.commands, self.ctx)
                self._tasks.append(asyncio.create_task(self._consumer.run(), name="commands"))
            if service.routes:
                relay = run_relay(pool, redis, settings, service.name, service.routes)
                self._tasks.append(asyncio.create_task(relay, name="outbox relay"))
            if service.confirmed_by:
                check = run_redelivery(
                    pool, redis, settings, service.name, service.routes, service.confirmed_by
                )
                self._tasks.append(asyncio.create_task(check, name="event redelivery"))
            for loop in service.loops:
                self._tasks.append(asyncio.create_task(loop(self.ctx), name=loop.__name__))
            if self.jobs or service.cron_jobs:
                self._arq = self._arq_worker(queue_name)
                self._tasks.append(asyncio.create_task(self._run_arq(queue_name), name="arq"))
            if settings.metrics_port:
                try:
                    self._health = await serve_health(settings.host, settings.metrics_port, self.problems)
                except OSError as exc:  # probes and metrics are for operators; the work goes on
                    log.warning("no health or metrics on port %s: %s", settings.metrics_port, exc)
            settle_after_start_up()
            await self._closed.wait()
        finally:
            await self._shut_down()

    def _arq_worker(self, queue_name: str) -> Worker:
        async def job_start(ctx: dict[str, Any]) -> None:
            JOB_WAIT.labels(queue_name).observe((now() - ctx["enqueue_time"]).total_seconds())

        options: dict[str, Any] = {
            "functions": [retried_on_failure(traced_events(job, self.service.name)) for job in self.jobs],
            "cron_jobs": [
                dataclasses.replace(job, name=f"{self.settings.namespace}:{job.name}")
                for job in self.service.cron_jobs
            ],
            "queue_name": queue_name,
            "redis_pool": self.ctx["redis"],
            "ctx": self.ctx,
            "on_job_start": job_start,
            "max_jobs": self.settings.worker_max_jobs,
            "poll_delay": 0.2,
            "keep_result": 3600,
            "job_completion_wait": 10,
            "handle_signals": False,
        }
        options.update(self.arq_options)
        return _RecordingWorker(self._unrecorded, **options)

    async def _run_arq(self, queue_name: str) -> None:
        """arq's loop ends at the first Redis error (a restart of Redis, say), leaving its queue
        unread while the process lives on: run it again until the worker is closed.

        Each time with a fresh arq worker: a failure between taking a job and starting it leaves
        arq's job semaphore a permit short, and enough outages would stop the worker taking jobs.
        And first, once Redis answers, free the jobs that were stranded (see below)."""
        while True:
            assert self._arq is not None
            try:
                await self._free_stranded_jobs()
                await self._arq.async_run()
                return
            except Exception:
                log.warning("arq loop of %s stopped; starting it again", queue_name, exc_info=True)
                await asyncio.sleep(0.5)
                self._arq = self._arq_worker(queue_name)

    async def _free_stranded_jobs(self) -> None:
        """A job taken while Redis went away may never have recorded its end (or even its
        start: done, failed or to be retried): it stays queued, but its in-progress mark keeps
        every worker off it until the job timeout has passed — minutes of, say, undelivered
        messages. Remove those marks so the jobs run again now; every job here is safe to run
        twice (event batches are consumed once, deliveries and reminders are keyed by what they
        are for). Left: a mark whose MULTI was applied but whose reply Redis never sent waits
        for the timeout, as before."""
        stranded = [job_id for job_id, task in self._unrecorded.items() if task.done()]
        if not stranded:
            return
        for job_id in stranded:  # the error (Redis was away) is known; nobody else will ask
            task = self._unrecorded[job_id]
            if not task.cancelled():
                task.exception()
        await self.ctx["redis"].delete(*(in_progress_key_prefix + job_id for job_id in stranded))
        for job_id in stranded:
            del self._unrecorded[job_id]
        log.warning("%d jobs interrupted by a Redis outage are run again", len(stranded))

    async def close(self) -> None:
        self._closed.set()

    async def problems(self) -> list[str]:
        """What stops this worker doing its work, in words (its readiness); empty when nothing."""
        found = []
        checks = {"PostgreSQL": self.ctx["pool"].fetchval("SELECT 1"), "Redis": self.ctx["redis"].ping()}
        for server, check in checks.items():
            try:
                async with asyncio.timeout(_READINESS_TIMEOUT_S):
                    await check
            except Exception as exc:
                found.append(f"{server}: {exc or type(exc).__name__}")
        found += [f"{task.get_name()} loop has stopped" for task in self._tasks if task.done()]
        return found

    async def _shut_down(self, grace_s: float = 10) -> None:
        if self._health is not None:
            self._health.close()  # not ready any more: the probes and the scraper are told so
        # Work in hand finishes first: commits must get their replies, jobs their results.
        if self._consumer is not None:
            await self._consumer.stop(grace_s)
        if self._arq is not None:
            self._arq.allow_pick_jobs = False
        for task in self._tasks:  # the loops (arq's included) stop taking work; jobs run on
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._arq is not None:
            # Jobs of an earlier arq worker (before a Redis outage) may still be running too.
            started = {*self._arq.tasks.values(), *self._unrecorded.values()}
            running = [task for task in started if not task.done()]
            if running:
                await asyncio.wait(running, timeout=grace_s)
            try:
                await self._arq.close()  # cancels what outlived the grace; closes the Redis pool
            except asyncio.CancelledError:
                current = asyncio.current_task()
                if current is not None and current.cancelling():
                    raise  # we are being cancelled ourselves
                # else: a job that outlived the grace was cancelled; arq runs it again later
        if "pool" in self.ctx:
            await self.ctx["pool"].close()
        with contextlib.suppress(Exception):
            await self.ctx["redis"].aclose()
        tracing.flush()

    def run(self) -> None:
        """Run as the process's main loop; SIGINT or SIGTERM stops it gracefully."""

        async def main() -> None:
            loop = asyncio.get_running_loop()
            for signum in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(signum, self._closed.set)
            await self.async_run()

        uvloop.run(main())


def build_worker(service: ServiceWorker, settings: Settings, **arq_options: Any) -> ServiceProcess:
    # ``handle_signals`` is for arq; the process handles signals itself in ``run``.
    arq_options.pop("handle_signals", None)
    return ServiceProcess(service, settings, **arq_options)
