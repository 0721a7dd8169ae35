"""The Bag builder's graphs (collections/bag.py): shaped as dask.bag builds them, and text blocks that split
files at line boundaries. The execution side runs in Node and is tested from TypeScript (test/dask/bag.test.ts)."""

import pytest

from daskflow_bridge.collections import bag
from daskflow_bridge.collections.bag import Builder, BagPlanError, run_partition, collect_group, text_blocks


def seq(n):
    return {"op": "from_sequence", "partitions": [b"p%d" % i for i in range(n)]}


def test_consecutive_steps_fuse_into_one_task_per_partition():
    b = Builder("plugin", {})
    node = {"op": "steps", "input": {"op": "steps", "input": seq(5), "steps": [b"s1"]}, "steps": [b"s2", b"s3"]}
    keys = b.keys(node)
    assert len(keys) == len(b.dsk) == 5
    fn, plugin, program, data = b.dsk[keys[2]]
    assert fn is run_partition and plugin == "plugin" and data == b"p2"
    assert program == {"kind": "partition", "steps": [b"s1", b"s2", b"s3"]}


def test_reductions_are_trees_of_split_every_inputs():
    b = Builder("plugin", {})
    root = b.reduction({"input": seq(20), "per": b"per", "agg": b"agg", "split_every": 4})
    parts = [k for k, v in b.dsk.items() if v[2]["kind"] == "partition"]
    levels = {}
    for k, v in b.dsk.items():
        if v[2]["kind"] == "aggregate":
            levels.setdefault(v[2]["depth"], []).append(len(v) - 3)
    assert len(parts) == 20 and all(b.dsk[k][2]["then"] == b"per" for k in parts)
    assert levels == {0: [4, 4, 4, 4, 4], 1: [4, 1], 2: [2]}  # 20 -> 5 -> 2 -> 1
    assert b.dsk[root][2]["final"] is True
    assert sum(1 for v in b.dsk.values() if v[2].get("final")) == 1


def test_empty_bag_still_has_a_final_aggregate():
    b = Builder("plugin", {})
    root = b.reduction({"input": seq(0), "per": b"p", "agg": b"a", "split_every": 8})
    assert b.dsk[root][2]["final"] is True and len(b.dsk[root]) == 3


def test_group_by_is_a_task_shuffle():
    b = Builder("plugin", {})
    out = b.group_by({"input": seq(3), "key": b"key", "npartitions": 2})
    splits = [v for v in b.dsk.values() if v[2]["kind"] == "split"]
    merges = [b.dsk[k] for k in out]
    assert len(splits) == 3 and all(s[2]["n"] == 2 for s in splits)
    assert len(merges) == 2 and all(m[0] is collect_group and len(m) == 4 + 3 for m in merges)


def test_text_blocks_cover_the_file_and_gzip_is_one_block(tmp_path):
    (tmp_path / "a.txt").write_bytes(b"x" * 250)
    (tmp_path / "b.txt.gz").write_bytes(b"\x1f\x8b")
    blocks = text_blocks(str(tmp_path / "*"), 100, "infer")
    assert [(bl["start"], bl["end"], bl["compression"]) for bl in blocks] == [(0, 100, None), (100, 200, None), (200, 250, None), (0, None, "gzip")]
    with pytest.raises(FileNotFoundError, match="no file matches"):
        text_blocks(str(tmp_path / "none-*"), None, None)
    with pytest.raises(BagPlanError, match="compression 'bz2'"):
        text_blocks(str(tmp_path / "a.txt"), None, "bz2")


def test_unknown_ops_and_missing_plugin_are_clear_errors():
    with pytest.raises(BagPlanError, match="unknown Bag plan op 'eval'"):
        Builder("plugin", {}).parts({"op": "eval"})
    with pytest.raises(BagPlanError, match="no worker plugin"):
        Builder("", {})
    assert bag.SPLIT_EVERY == 8
