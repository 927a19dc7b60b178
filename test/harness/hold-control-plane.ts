// Starts a control plane, prints its PIDs as one JSON line and waits to be killed. The cleanup
// test kills this process in various ways and checks nothing it started survives.
import { startControlPlane } from './controlPlane.ts';

const cp = await startControlPlane({ crdDir: '/nonexistent' });
console.log(JSON.stringify({ pids: cp.pids(), dir: cp.dir }));
setInterval(() => undefined, 1 << 30);
