"""How long a pack's adapter takes to build on this machine (target: at most 3 minutes per pack).

  python bench/adapter_build.py [--pack clearwell]

Builds the adapter from scratch in a temporary cache (the real cache is untouched) and prints the questions it
learned from, the steps, and the seconds; then how long loading the cached adapter takes.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pack", default="clearwell")
    args = parser.parse_args()

    from knowledge.adapt import adapter_folder, ensure_adapter, training_pairs
    from knowledge.encoder import Encoder, default_model_path, model_fingerprint
    from knowledge.pack import load_pack

    pack = load_pack(args.pack)
    base = default_model_path()
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        folder = ensure_adapter(pack, base, model_fingerprint(base), tmp)
        built = time.perf_counter() - started
        if folder is None:
            print(f"pack {pack.name}: too few curated questions ({len(training_pairs(pack))}) for an adapter")
            return 0
        started = time.perf_counter()
        Encoder(folder)
        loaded = time.perf_counter() - started
        print(f"pack                {pack.name}")
        print(f"questions           {len(training_pairs(pack))}")
        print(f"adapter folder      {adapter_folder(Path(tmp), pack, model_fingerprint(base)).name}")
        print(f"build seconds       {built:.1f}   (target ≤ 180)")
        print(f"load seconds        {loaded:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
