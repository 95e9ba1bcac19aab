#!/usr/bin/env python3
"""The Python urllib3 peer of the bench's download workload (download-workload.mjs).

Usage: python3 py-download.py URL SIZE CHUNK TIMEOUT_S

In this fresh process: import urllib3 and print "ready"; on a line from
stdin, settle, record the RSS baseline and reset the kernel's peak-RSS mark,
then download URL twice, each time through a new PoolManager, streamed with
preload_content=False and stream(CHUNK), counting bytes (the first download
is "cold", the second "warm"), and print one JSON line: MiB/s of each, and
the peak RSS growth over the baseline. Then wait for stdin to close, so the
bench's quiet-machine guard still sees this process's CPU time.
"""

import gc
import json
import re
import sys
import time

import urllib3

MIB = 1024 * 1024


def vm(field):
    """A field of /proc/self/status in bytes, or None off Linux."""
    try:
        with open("/proc/self/status") as f:
            m = re.search(rf"^{field}:\s+(\d+) kB", f.read(), re.M)
        return int(m.group(1)) * 1024 if m else None
    except OSError:
        return None


def reset_peak():
    """Reset VmHWM to the current RSS (Linux: write 5 to clear_refs)."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def download(url, size, chunk, timeout):
    http = urllib3.PoolManager(timeout=urllib3.Timeout(connect=timeout, read=timeout), retries=False)
    started = time.perf_counter()
    r = http.request("GET", url, preload_content=False)
    n = 0
    for part in r.stream(chunk):
        n += len(part)
    r.release_conn()
    elapsed = time.perf_counter() - started
    http.clear()
    if r.status != 200 or n != size:
        raise SystemExit(f"Python urllib3: status {r.status}, {n} bytes, expected 200 and {size}")
    return {"bytes": n, "elapsedMs": elapsed * 1000, "mibPerSec": n / MIB / elapsed}


def main():
    url, size, chunk, timeout = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
    print("ready", flush=True)
    if not sys.stdin.readline():
        return
    gc.collect()
    baseline = vm("VmRSS")
    hwm = reset_peak()
    cold = download(url, size, chunk, timeout)
    cold_peak = vm("VmHWM") if hwm else None
    warm = download(url, size, chunk, timeout)
    peak = vm("VmHWM") if hwm else None
    out = {
        "cold": cold,
        "warm": warm,
        "baselineRss": baseline,
        "peakRss": peak,
        "rssGrowth": None if peak is None or baseline is None else peak - baseline,
        "coldRssGrowth": None if cold_peak is None or baseline is None else cold_peak - baseline,
        "peakSource": "VmHWM" if hwm else None,
        "chunk": chunk,
        "urllib3": urllib3.__version__,
        "python": sys.version.split()[0],
    }
    print(json.dumps(out), flush=True)
    sys.stdin.read()


if __name__ == "__main__":
    main()
