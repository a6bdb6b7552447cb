"""The kit's own tests: every contract passes on good components and fails on broken ones.

``kit_woo`` (a WooCommerce orders source) and ``kit_tfidf`` (a scikit-learn classifier) are
third-party-style components with switchable mistakes; they import as plain modules.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))
