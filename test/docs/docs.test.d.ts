/** Relative link targets of a markdown file: [text](target) and ![alt](target), without #anchors. */
export declare function relativeLinks(markdown: string): string[];
