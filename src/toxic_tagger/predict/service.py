"""HTTP service over a `Tagger`: FastAPI app, run by uvicorn (`toxic-tagger serve`).

    POST /predict    {"texts": ["...", ...]} (or a bare JSON list)
                     -> {"results": [{"probabilities": {tag: p}, "tags": [...], "truncated": bool}, ...]}
    GET  /health     -> {"status": "ok"}
    GET  /metadata   -> labels, thresholds, max_length and truncation, runtime, blend, calibration,
                        provenance and the limits below

Limits (`Limits`): body bytes, texts per request and characters per text; a request over one,
malformed JSON, a wrong type or a blank text gets a JSON 4xx `{"error": "..."}` and the server
carries on. Concurrent requests are micro-batched (`MicroBatcher`): the first waiting request
opens a window of `window_ms`, and every request that arrives in it joins one model call while
their estimated tokens stay under `batch_tokens`; the model runs in a worker thread, so the
event loop keeps accepting requests meanwhile. With batching off, each request is its own call.
"""

from __future__ import annotations

import asyncio
import json
import time
from contextlib import asynccontextmanager
from dataclasses import asdict, dataclass

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from toxic_tagger.errors import ToxicTaggerError
from toxic_tagger.predict.tagger import Tagger, check_texts

CHARS_PER_TOKEN = 4  # a cheap token estimate for gathering requests (English averages ~4 characters a token)


@dataclass(frozen=True)
class Limits:
    max_body_bytes: int = 1 << 20
    max_texts: int = 256  # per request
    max_text_chars: int = 20_000  # per text; the model reads max_length tokens of it anyway
    batch_tokens: int = 16_384  # estimated tokens gathered into one model call
    window_ms: float = 5.0  # how long the first request waits for others to join it
    batching: bool = True


class RequestError(ToxicTaggerError):
    """A request the service refuses: `status` is its HTTP status code."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def parse_texts(body: bytes, limits: Limits) -> list[str]:
    """The texts of a /predict body, checked against `limits`; RequestError otherwise."""
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise RequestError(400, f"body is not valid JSON: {exc}") from exc
    texts = payload.get("texts") if isinstance(payload, dict) else payload
    if not isinstance(texts, list):
        raise RequestError(422, 'expected {"texts": [comment, ...]} or a JSON list of comments')
    if not texts:
        raise RequestError(422, "texts: empty list; send at least one comment")
    if len(texts) > limits.max_texts:
        raise RequestError(413, f"texts: {len(texts)} comments, at most {limits.max_texts} per request")
    try:
        checked = check_texts(texts)
    except ToxicTaggerError as exc:
        raise RequestError(422, str(exc)) from exc
    for index, text in enumerate(checked):
        if len(text) > limits.max_text_chars:
            raise RequestError(413, f"text {index}: {len(text):,} characters, at most {limits.max_text_chars:,}")
    return checked


class MicroBatcher:
    """Gathers concurrent requests into shared `Tagger.predict` calls (see the module docstring)."""

    def __init__(self, tagger: Tagger, limits: Limits) -> None:
        self.tagger = tagger
        self.limits = limits
        self.queue: asyncio.Queue[tuple[list[str], asyncio.Future]] = asyncio.Queue()
        self.calls = 0  # model calls made, for /metadata and the load test

    async def predict(self, texts: list[str]) -> list[dict]:
        future = asyncio.get_running_loop().create_future()
        await self.queue.put((texts, future))
        return await future

    async def run(self) -> None:
        """Serve the queue until cancelled."""
        while True:
            jobs = [await self.queue.get()]
            if self.limits.batching:
                await self._gather(jobs)
            texts = [text for job_texts, _ in jobs for text in job_texts]
            try:
                results = await asyncio.to_thread(self.tagger.predict, texts)
            except Exception as exc:  # noqa: BLE001 -- reported to each waiting request, the loop goes on
                for _, future in jobs:
                    future.set_exception(exc)
                continue
            self.calls += 1
            start = 0
            for job_texts, future in jobs:
                future.set_result(results[start : start + len(job_texts)])
                start += len(job_texts)

    async def _gather(self, jobs: list) -> None:
        """Add requests that arrive within the window while the token estimate stays in budget."""
        tokens = sum(_estimate(texts, self.tagger.max_length) for texts, _ in jobs)
        deadline = time.monotonic() + self.limits.window_ms / 1000
        while (left := deadline - time.monotonic()) > 0:
            try:
                job = await asyncio.wait_for(self.queue.get(), left)
            except TimeoutError:
                return
            jobs.append(job)
            tokens += _estimate(job[0], self.tagger.max_length)
            if tokens >= self.limits.batch_tokens:
                return


def _estimate(texts: list[str], max_length: int) -> int:
    return sum(min(max_length, len(text) // CHARS_PER_TOKEN + 2) for text in texts)


def create_app(tagger: Tagger, limits: Limits | None = None) -> FastAPI:
    """The FastAPI application serving `tagger` under `limits`."""
    limits = limits or Limits()
    batcher = MicroBatcher(tagger, limits)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        worker = asyncio.create_task(batcher.run())
        yield
        worker.cancel()

    app = FastAPI(title="toxic-tagger", lifespan=lifespan)

    @app.exception_handler(RequestError)
    async def refused(request: Request, exc: RequestError) -> JSONResponse:
        return JSONResponse({"error": str(exc)}, status_code=exc.status)

    @app.get("/health")
    async def health() -> dict:
        return {"status": "ok"}

    @app.get("/metadata")
    async def metadata() -> dict:
        return {**tagger.metadata(), "limits": asdict(limits), "model_calls": batcher.calls}

    @app.post("/predict")
    async def predict(request: Request) -> dict:
        texts = parse_texts(await _body(request, limits.max_body_bytes), limits)
        return {"results": await batcher.predict(texts)}

    return app


async def _body(request: Request, max_bytes: int) -> bytes:
    """The request body, refused with 413 as soon as it passes `max_bytes` (never read in full)."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > max_bytes:
        raise RequestError(413, f"body of {int(declared):,} bytes, at most {max_bytes:,}")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > max_bytes:
            raise RequestError(413, f"body over {max_bytes:,} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def serve(tagger: Tagger, host: str, port: int, limits: Limits | None = None) -> None:
    """Run the service with uvicorn until interrupted."""
    import uvicorn

    uvicorn.run(create_app(tagger, limits), host=host, port=port, log_level="info")
