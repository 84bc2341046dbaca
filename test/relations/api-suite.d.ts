import type { Test } from 'tap';
import type { Send } from '../helpers/http.js';
export declare function relationsApiSuite(t: Test, send: Send): Promise<void>;
