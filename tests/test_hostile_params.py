"""Hostile params.yaml (hypothesis): one random key's value replaced, through load_params and
the check-params command.

Each property: a door either does its job or fails with the project's own one-line error (a
ToxicTaggerError; through the CLI one `error:` line and status 1), and no input file or earlier
output changes. Examples are kept few so the files stay fast; the counts:
`pytest tests/test_hostile_*.py --hypothesis-show-statistics`.
"""

import yaml
from conftest import in_process
from hostile import PARAMS_TEXT, USES_CAPSYS, assert_one_line, files_in
from hypothesis import event, given, settings
from hypothesis import strategies as st

from toxic_tagger.config import Params, load_params
from toxic_tagger.errors import InputError

# --- params.yaml: one random key's value replaced ---------------------------------------------


def _leaf_spans(node: yaml.Node, prefix: str = "") -> list[tuple[str, int, int]]:
    """(dotted key, start, end) of every leaf value in params.yaml's text."""
    spans = []
    for key, value in node.value:
        if isinstance(value, yaml.MappingNode):
            spans += _leaf_spans(value, f"{prefix}{key.value}.")
        else:
            spans.append((prefix + key.value, value.start_mark.index, value.end_mark.index))
    return spans


LEAVES = _leaf_spans(yaml.compose(PARAMS_TEXT, Loader=yaml.SafeLoader))
SCALARS = st.one_of(st.integers(-2**70, 2**70), st.integers(-3, 300), st.floats(), st.booleans(), st.none(),
                    st.text(max_size=12), st.sampled_from(["sample", "3e-05", "1.0e-4", ".inf", "null", "~", ""]))
YAML_GARBAGE = st.lists(st.sampled_from([*":{}[]&*!|>'\"%@`#,-? \t\n\\", "!!python/object/apply:os.system ['true']",
                                         "!!binary", "&a", "*a", "<<: *a", "\x00", "\x85", "\ufeff", "é", "a: b", "- 1"]),
                        max_size=6).map("".join)


def _dump(value) -> str:
    return yaml.safe_dump(value, default_flow_style=True, width=10**6).removesuffix("\n").removesuffix("\n...")


@st.composite
def params_files(draw, keep: tuple[str, ...] = ()) -> tuple[str, bytes]:
    """(key, bytes of params.yaml with that key's value replaced): a YAML scalar, a list,
    garbage text or raw bytes (also not UTF-8)."""
    key, start, end = draw(st.sampled_from([leaf for leaf in LEAVES if leaf[0] not in keep]))
    replacement = draw(st.one_of(SCALARS.map(_dump), st.lists(SCALARS, max_size=4).map(_dump), YAML_GARBAGE,
                                 st.binary(max_size=6)))
    encoded = replacement if isinstance(replacement, bytes) else replacement.encode("utf-8")
    return key, PARAMS_TEXT[:start].encode() + encoded + PARAMS_TEXT[end:].encode()


def _typed(value, like):
    """The YAML value as load_params types it (lists as tuples, numbers as float where typed so)."""
    if isinstance(value, list):
        return tuple(value)
    return float(value) if isinstance(like, float) and not isinstance(value, bool) else value


@settings(max_examples=200, deadline=None)
@given(mutated=params_files())
def test_load_params_random_values_give_params_or_one_line(tmp_path_factory, mutated):
    key, data = mutated
    path = tmp_path_factory.mktemp("params") / "params.yaml"
    path.write_bytes(data)
    try:
        params = load_params(path)
    except InputError as exc:
        assert_one_line(str(exc))
        event("refused")
    else:
        event("loaded")  # accepted: the typed value is the file's value, not a default or a neighbour's
        assert isinstance(params, Params)
        section, *name = key.split(".")
        typed = getattr(params, section) if not name else getattr(getattr(params, section), name[0])
        raw = yaml.safe_load(data.decode("utf-8"))
        expected = raw[section] if not name else raw[section][name[0]]
        assert typed == _typed(expected, typed)
    assert path.read_bytes() == data


@settings(max_examples=40, deadline=None, suppress_health_check=USES_CAPSYS)
@given(mutated=params_files(keep=("model.name",)))  # a random hub id is a network call
def test_check_params_cli_random_values_exit_0_or_one_line(tmp_path_factory, capsys, mutated):
    _, data = mutated
    folder = tmp_path_factory.mktemp("check")
    path = folder / "params.yaml"
    path.write_bytes(data)
    code, out, err = in_process(capsys, "check-params", str(path))
    event(f"exit {code}")
    if code == 0:
        assert out == f"{path}: ok\n" and err == ""
    else:
        assert code == 1 and err.startswith("error: ") and out == ""
        assert_one_line(err)
    assert path.read_bytes() == data and files_in(folder) == ["params.yaml"]
