"""Write email subject lines and product blurbs with a small GPT-2 trained here, offline.

Run: python examples/marketing_copy.py
"""

from __future__ import annotations

import ecomlm_sdk


def main() -> None:
    store = ecomlm_sdk.sample_store()
    copy = ecomlm_sdk.task("generate-copy").fit(store)  # trains a tiny GPT-2 on product text
    written = copy.generate(["17850", "13047", "12583"], store)
    for row in written.iter_rows(named=True):
        print(f"[{row['segment']}] {row['subject']}\n    {row['blurb']}")


if __name__ == "__main__":
    main()
