// Debug output through util.debuglog('urllib3'): silent unless NODE_DEBUG
// names urllib3, and then lines start "URLLIB3 <pid>:" (docs/api.md section 11).

import { debuglog } from 'node:util';

export const debug = debuglog('urllib3');
