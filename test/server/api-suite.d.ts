import type { Test } from 'tap';
import type { Send } from '../helpers/http.js';
export declare function apiSuite(t: Test, send: Send): Promise<void>;
