import pytest

from qnetai._optional import MissingExtraError, require


def test_require_imports_present_module():
    assert require("math", extra="core").sqrt(4.0) == 2.0


def test_require_names_the_extra():
    with pytest.raises(MissingExtraError, match=r"qnetai\[qec\]"):
        require("surely_not_a_module_qnetai", extra="qec")
