"""Persisted task results (src/results/ on the Node side): the workers write them through fsspec, the bridge probes,
looks up and reads them for the flow process."""
