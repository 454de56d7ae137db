"""Container health check of the worker images: exit 0 when DATABASE_URL accepts a connection (the worker
can claim jobs) and, with TANDEM_REQUIRE_CUDA=1 (the GPU image), torch sees a CUDA device; else 1."""

import os
import sys

try:
    import psycopg

    psycopg.connect(os.environ["DATABASE_URL"], connect_timeout=5).close()
except Exception as e:  # KeyError when unset, psycopg.OperationalError when unreachable
    print(f"database: {type(e).__name__}: {e}", file=sys.stderr)
    sys.exit(1)

if os.environ.get("TANDEM_REQUIRE_CUDA") == "1":
    import torch

    if not torch.cuda.is_available():
        print("cuda: torch sees no CUDA device", file=sys.stderr)
        sys.exit(1)
