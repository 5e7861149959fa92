"""flambeau.load of whole objects pickled by torch.save (weights_only=False), and the
``_metadata`` of state dicts through flambeau's own format."""

import io
from collections import OrderedDict

import flambeau


def test_flambeau_format_keeps_state_dict_metadata():
    sd = OrderedDict([("w", flambeau.ones(2)), ("b", flambeau.zeros(1))])
    sd._metadata = OrderedDict([("", {"version": 1}), ("bn", {"version": 2})])
    buf = io.BytesIO()
    flambeau.save({"sd": sd, "plain": OrderedDict(a=1)}, buf)
    buf.seek(0)
    out = flambeau.load(buf)
    assert type(out["sd"]) is OrderedDict and list(out["sd"]) == ["w", "b"]
    assert type(out["sd"]._metadata) is OrderedDict
    assert list(out["sd"]._metadata.items()) == [("", {"version": 1}), ("bn", {"version": 2})]
    assert not hasattr(out["plain"], "_metadata")
