"""The wire between daskflow's processes, and how large values cross it: frames and message names (framing.py,
protocol.py), large results as Dask holds them (large_value.py), and values handed over in place (mapped_replies.py,
process_memory.py, sender_files.py, worker_memory.py).

Runs on both sides: in the bridge process (its channel to the flow process) and in every Dask worker (its channels
to its Node sidecars). So it imports nothing else of daskflow_bridge: everything else may import it.
"""
