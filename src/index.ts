// The package's main entry (`import { … } from 'policy-engine'`): the typed client, the
// route guards and the request/response types. It loads neither the server, the
// MongoDB driver nor the Lua VM: an API that only asks the engine pays for none of them.
// The server is the `policy-engine` command (`policy-engine serve`).

export * from './client/index.js';
