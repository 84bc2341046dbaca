import type { Test } from 'tap';
import { type Browser, type BrowserContext, type Page } from 'playwright-core';
export declare const CHROMIUM: string;
export declare function launchChromium(t: Test): Promise<Browser>;
export interface Watched {
    page: Page;
    context: BrowserContext;
    /** CSP violations (events and console reports), page errors, foreign requests */
    problems: string[];
}
export declare function watchedPage(browser: Browser, base: string): Promise<Watched>;
/** Violations the page saw (read before a test ends). */
export declare function cspViolations(page: Page): Promise<string[]>;
