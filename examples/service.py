"""A small service with the cancellation bugs mypy-cancel-plugin reports (and their fixes)."""

import asyncio
import contextlib


async def fetch(url: str) -> bytes:
    await asyncio.sleep(0.1)
    return url.encode()


async def fetch_or_none(url: str) -> bytes | None:
    try:
        return await fetch(url)
    except BaseException:  # bug: swallows cancellation, so TaskGroup and timeout() hang or misfire
        return None


async def fetch_or_none_fixed(url: str) -> bytes | None:
    try:
        return await fetch(url)
    except Exception:  # fine: CancelledError is a BaseException, not an Exception
        return None


async def poll(urls: list[str]) -> None:
    for url in urls:
        try:
            await fetch(url)
        except asyncio.CancelledError:
            print("cancelled, cleaning up")
            raise  # fine: clean up, then re-raise


async def stop(worker: "asyncio.Task[None]") -> None:
    worker.cancel()
    try:
        await worker
    except asyncio.CancelledError:  # bug: a cancellation of *this* task is swallowed too
        pass


async def quiet_sleep() -> None:
    with contextlib.suppress(asyncio.CancelledError):  # bug: suppress() swallows cancellation
        await asyncio.sleep(1)


async def last_word() -> str:
    try:
        await asyncio.sleep(1)
    finally:
        return "done"  # bug: discards an in-flight cancellation (PEP 765)
