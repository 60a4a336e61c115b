"""What several bench scripts share and the tests do not need."""

from __future__ import annotations


def peak_rss_mb(pid: int | str = "self") -> float:
    """The process's own peak resident set (VmHWM in /proc/<pid>/status), in MB.

    Not getrusage's ru_maxrss: a child started by fork/exec reports the larger of its own
    peak and its parent's at the fork, so a bench that seeds a big database in the parent
    would read the parent's peak."""
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmHWM in /proc/{pid}/status")
