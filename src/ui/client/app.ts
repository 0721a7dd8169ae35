/// <reference lib="dom" />
/** The UI's entry: the runs list at `/`, a run's page at `/runs/<id>`. */
import { h, clear } from "./dom.ts";
import { runsPage } from "./runs.ts";
import { runPage } from "./run.ts";

const main = document.getElementById("main")!;
const run = /^\/runs\/([^/]+)$/.exec(location.pathname);
const page = run ? runPage(main, decodeURIComponent(run[1]!)) : runsPage(main);
page.catch((error: unknown) => clear(main, h("p", { class: "error" }, `Could not load: ${(error as Error).message}`)));
