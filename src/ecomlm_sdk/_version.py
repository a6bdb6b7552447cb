"""Version of the distribution and of the plugin API it offers."""

from __future__ import annotations

from typing import Final

__version__: Final = "0.1.0"

#: Major version of the plugin API. A plugin declares the range it supports with a module
#: attribute such as ``ecomlm_sdk_api = ">=1,<2"``; plugins whose range excludes this number
#: are skipped at load time with a message naming the versions they need.
API_VERSION: Final = 1
