"""The integer bounds every request field is held to, so that no number outside what both
stores hold (and what a JavaScript console reads exactly) ever reaches them: record ids
1..2^53 and instants 0..2^53 ms.  A number past them is a 400 naming the field, never a
store error."""

from __future__ import annotations

from typing import Annotated

import msgspec

MAX_EXACT = 2**53

RecordId = Annotated[int, msgspec.Meta(ge=1, le=MAX_EXACT)]
Instant = Annotated[int, msgspec.Meta(ge=0, le=MAX_EXACT, description="Unix time in milliseconds.")]
