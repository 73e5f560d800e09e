"""FastAPI dependencies shared by every router."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

import anyio
from fastapi import Depends
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from core.db import get_engine
from core.settings import Settings, get_settings


async def get_session() -> AsyncIterator[Session]:
    """A session for one request, made and closed on the event loop where that costs no I/O.

    A synchronous generator would cost two trips through the thread pool per request (one
    to open, one to close), more than a filing's INSERTs. Making a Session touches no
    database; closing one whose work was committed or rolled back returns nothing to the
    pool. Only a session still in a transaction (a read that never committed, an error)
    is closed in the thread pool: its rollback may wait on the network.
    """
    session = Session(get_engine(), expire_on_commit=False)
    try:
        yield session
    finally:
        if session.in_transaction():
            with anyio.CancelScope(shield=True):  # a client that hung up still gets it closed
                await run_in_threadpool(session.close)
        else:
            session.close()


SessionDep = Annotated[Session, Depends(get_session)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
