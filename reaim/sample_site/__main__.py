"""Serve the sample site until interrupted: ``python -m reaim.sample_site [--port 8765]``."""

from __future__ import annotations

import argparse
import time

from reaim.sample_site.server import SampleSite


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m reaim.sample_site", description=__doc__)
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: a free one)")
    args = parser.parse_args()
    with SampleSite(port=args.port) as site:
        print(f"Sample site on {site.base_url}/  (Ctrl-C to stop)", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
