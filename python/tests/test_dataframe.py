"""The DataFrame plan evaluator (collections/dataframe*.py) on a real LocalCluster, driven as the bridge drives it:
``run(action, plan, args, client)`` with an asynchronous distributed.Client."""

import asyncio
import subprocess
import sys
import threading
from pathlib import Path

import msgpack
import pytest

pd = pytest.importorskip("pandas")
pa = pytest.importorskip("pyarrow")

from daskflow_bridge.collections import dataframe  # noqa: E402


@pytest.fixture(scope="module")
def run():
    """``run(action, plan, args={})`` on a 1-worker, 2-thread in-process cluster kept on a loop in a thread."""
    from distributed import Client, LocalCluster

    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()

    def on_loop(coro, timeout=60):
        return asyncio.run_coroutine_threadsafe(coro, loop).result(timeout)

    async def start():
        cluster = await LocalCluster(n_workers=1, threads_per_worker=2, processes=False, asynchronous=True,
                                     dashboard_address=":0")
        return cluster, await Client(cluster, asynchronous=True)

    cluster, client = on_loop(start())
    yield lambda action, plan, args=None: on_loop(dataframe.run(action, plan, args or {}, client))

    async def stop():
        await client.close()
        await cluster.close()

    on_loop(stop())
    loop.call_soon_threadsafe(loop.stop)
    thread.join(10)


ROWS = {"op": "from_rows", "npartitions": 2, "columns": [
    {"name": "region", "type": "string", "values": ["EU", "US", "EU", "APAC", None]},
    {"name": "price", "type": "float", "values": [10.0, 20.0, 30.0, None, 5.0]},
    {"name": "qty", "type": "int", "values": [1, 2, 5, 4, 10]},
]}


def col(name):
    return {"col": name}


def lit(value):
    return {"lit": value}


def fn(name, *args):
    return {"fn": name, "args": list(args)}


def test_rows_keep_every_key_and_nulls(run):
    rows = run("compute", ROWS)
    assert rows[3] == {"region": "APAC", "price": None, "qty": 4}
    assert rows[4] == {"region": None, "price": 5.0, "qty": 10}
    assert len(rows) == 5


def test_filter_and_assign_with_expressions(run):
    revenue = fn("mul", col("price"), col("qty"))
    plan = {"op": "filter", "input": {"op": "assign", "input": ROWS, "columns": [["revenue", revenue]]},
            "expr": fn("and", fn("gt", col("revenue"), lit(15)), fn("eq", col("region"), lit("EU")))}
    assert run("compute", plan) == [{"region": "EU", "price": 30.0, "qty": 5, "revenue": 150.0}]


def test_groupby_keys_are_columns_sorted_by_key(run):
    plan = {"op": "groupby_agg", "input": ROWS, "keys": ["region"], "aggs": [
        ["total", "qty", "sum"], ["n", "qty", "count"], ["avg", "price", "mean"], ["distinct", "price", "nunique"]]}
    assert run("compute", plan) == [
        {"region": "APAC", "total": 4, "n": 1, "avg": None, "distinct": 0},
        {"region": "EU", "total": 6, "n": 2, "avg": 20.0, "distinct": 2},
        {"region": "US", "total": 2, "n": 1, "avg": 20.0, "distinct": 1},
    ]


def test_reductions_give_a_record_and_length_a_number(run):
    frame = {"op": "from_rows", "npartitions": 1, "columns": [
        {"name": "x", "type": "int", "values": [1, 1, 1]}, {"name": "y", "type": "int", "values": [2, 2, 2]}]}
    assert run("compute", {"op": "reduce", "how": "sum", "input": frame}) == {"x": 3, "y": 6}
    assert run("compute", {"op": "length", "input": ROWS}) == 5


def test_datetimes_become_timestamps(run):
    plan = {"op": "from_rows", "npartitions": 1, "columns": [
        {"name": "at", "type": "datetime", "values": [1_700_000_000_000, None]}]}
    rows = run("compute", {"op": "assign", "input": plan, "columns": [["year", fn("dt.year", col("at"))]]})
    assert rows[0]["at"] == msgpack.Timestamp.from_unix_nano(1_700_000_000_000 * 1_000_000)
    assert rows[0]["year"] == 2023
    assert rows[1]["at"] is None


def test_big_integers_are_an_error_not_rounded(run):
    plan = {"op": "from_rows", "npartitions": 1, "columns": [
        {"name": "id", "type": "bigint", "values": [str(2**53 + 1)]}]}
    with pytest.raises(dataframe.DataFrameError, match=r"'id' holds the integer 9007199254740993.*toArrow"):
        run("compute", plan)
    table = pa.ipc.open_stream(bytes(run("compute", {"op": "to_arrow", "input": plan}))).read_all()
    assert table.column("id").type == pa.int64() and table.column("id")[0].as_py() == 2**53 + 1


@pytest.mark.parametrize("plan, message", [
    ({"op": "select", "input": ROWS, "columns": ["nope"]}, r"select\(\): no column 'nope'; the columns are 'region'"),
    ({"op": "filter", "input": ROWS, "expr": fn("mul", col("region"), lit(2))}, r"mul needs .*col\('region'\) is string"),
    ({"op": "filter", "input": ROWS, "expr": fn("gt", col("region"), lit(2))}, r"gt needs operands of the same orderable kind"),
    ({"op": "filter", "input": ROWS, "expr": col("qty")}, r"condition must be a boolean"),
    ({"op": "assign", "input": ROWS, "columns": [["x", fn("dt.year", col("price"))]]}, r"dt.year needs datetimes; col\('price'\) is numeric"),
    ({"op": "groupby_agg", "input": ROWS, "keys": ["region"], "aggs": [["s", "region", "sum"]]}, r"'region' is .*not numeric"),
    ({"op": "groupby_agg", "input": ROWS, "keys": ["region"], "aggs": [["s", "qty", "median"]]}, r"unknown aggregation 'median'"),
    ({"op": "astype", "input": ROWS, "dtypes": {"qty": "object"}}, r"unknown dtype 'object'"),
    ({"op": "filter", "input": ROWS, "expr": fn("eval", lit("1"))}, r"unknown function 'eval'"),
    ({"op": "query", "input": ROWS}, r"unknown DataFrame operation 'query'"),
    ({"op": "read_csv", "paths": "/nonexistent/x-*.csv"}, r"read_csv: cannot read"),
])
def test_bad_plans_are_clear_errors(run, plan, message):
    with pytest.raises(dataframe.DataFrameError, match=message):
        run("compute", plan)


def test_files_round_trip(run, tmp_path: Path):
    written = run("compute", {"op": "to_parquet", "input": ROWS, "path": str(tmp_path / "pq")})
    assert len(written) == 2 and all(p.endswith(".parquet") for p in written)
    back = run("compute", {"op": "sort_values", "by": "qty", "input": {"op": "read_parquet", "paths": str(tmp_path / "pq")}})
    assert [r["qty"] for r in back] == [1, 2, 4, 5, 10] and back[0] == {"region": "EU", "price": 10.0, "qty": 1}
    files = run("compute", {"op": "to_csv", "input": ROWS, "path": str(tmp_path / "csv")})
    assert len(files) == 2
    back = run("compute", {"op": "read_csv", "paths": str(tmp_path / "csv" / "*.csv")})
    assert back == run("compute", ROWS)


def test_persist_publishes_a_dataset(run):
    plan = run("persist", {"op": "head", "n": 2, "input": ROWS}, {"name": "daskflow-test-persist"})
    assert plan == {"op": "dataset", "name": "daskflow-test-persist"}
    assert [r["qty"] for r in run("compute", plan)] == [1, 2]


def test_a_python_without_pandas_names_the_setup_command(tmp_path: Path):
    # A pandas that cannot be imported, ahead of the real one on the path.
    (tmp_path / "pandas").mkdir()
    (tmp_path / "pandas" / "__init__.py").write_text("raise ImportError(\"No module named 'pandas'\", name='pandas')\n")
    code = (
        "import asyncio\n"
        "from daskflow_bridge.collections import dataframe\n"
        "try:\n"
        "    asyncio.run(dataframe.run('compute', {'op': 'length'}, {}, None))\n"
        "except Exception as e:\n"
        "    print(type(e).__name__, e)\n"
    )
    root = Path(__file__).resolve().parent.parent
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                         env={"PYTHONPATH": f"{tmp_path}:{root}", "PATH": "/usr/bin:/bin"})
    assert out.stdout.startswith("DataFrameSetupError"), out.stdout + out.stderr
    assert "npx daskflow setup --with dataframe" in out.stdout and "'pandas'" in out.stdout


def test_json_lines_read_while_the_async_client_is_current(run, tmp_path: Path):
    (tmp_path / "a.jsonl").write_text('{"k": "a", "v": 1}\n{"k": "b", "v": 2}\n')
    (tmp_path / "b.jsonl").write_text('{"k": "a", "v": 10}\n')
    plan = {"op": "groupby_agg", "keys": ["k"], "aggs": [["v", "v", "sum"]], "input": {
        "op": "read_json", "paths": [str(tmp_path / "a.jsonl"), str(tmp_path / "b.jsonl")]}}
    assert run("compute", plan) == [{"k": "a", "v": 11}, {"k": "b", "v": 2}]
