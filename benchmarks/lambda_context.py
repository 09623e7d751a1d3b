"""The Lambda context object for calling a handler in-process (benchmarks and tests).

Has what our handlers and Powertools read: the function's name, memory and ARN, a request id, and
`get_remaining_time_in_millis`, which counts down from `remaining_ms` like Lambda's own clock.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field


@dataclass
class LambdaContext:
    function_name: str = "ocr"
    remaining_ms: int = 30_000  # time left when the invocation starts (the function's timeout)
    memory_limit_in_mb: int = 3008
    aws_request_id: str = "test-request"
    _started: float = field(default_factory=time.monotonic, repr=False)

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:us-east-1:123456789012:function:{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int(self.remaining_ms - (time.monotonic() - self._started) * 1000))
