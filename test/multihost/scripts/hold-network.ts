/** Makes a network with one host running `sleep`, prints `{prefix, pid}` and waits to be signalled or killed. */
import { Network } from "../netns.ts";

const network = Network.create(1);
const sleeper = network.spawn(network.hosts[0]!, "sleep", ["600"]);
sleeper.once("spawn", () => console.log(JSON.stringify({ prefix: network.prefix, pid: sleeper.pid })));
setInterval(() => {}, 1000);
