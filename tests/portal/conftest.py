"""Portal fixtures: the client records, documents and forms of the feature apps' tests."""

from tests.documents.conftest import (  # noqa: F401  (shared fixtures)
    _documents_on_a_private_tmp_dir,
    carol_record,
    dave_browser,
    dave_record,
    ivan_browser,
    ivan_record,
)
from tests.intake.conftest import library  # noqa: F401  (shared fixture)
