// The IPSpace controller: what the wiring (src/controllers/index.ts) and tests may use.
export { ipSpaceController, IPSPACE_FINALIZER, CREATE_PENDING_ANNOTATION, type IPSpaceControllerOptions } from './controller.ts';
export { IPSpaceReasons, type IPSpaceReason } from './problems.ts';
export { clientDirectory, type CloudDirectory } from './directory.ts';
