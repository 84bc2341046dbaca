// The code editor: CodeMirror 6, one EditorState per open document (so each keeps its
// own undo history), with the server's validation shown as lint diagnostics at their
// line as the user types. The editor lives in a shadow root: there CodeMirror's styles
// go into a constructed stylesheet (adoptedStyleSheets), which the page's CSP allows,
// where a <style> element in the document would need 'unsafe-inline'.

import { basicSetup } from 'codemirror';
import { EditorState, type Text } from '@codemirror/state';
import { EditorView, keymap } from '@codemirror/view';
import { isolateHistory } from '@codemirror/commands';
import { json } from '@codemirror/lang-json';
import { yaml } from '@codemirror/lang-yaml';
import { linter, lintGutter, forceLinting, type Diagnostic } from '@codemirror/lint';
import { ApiError, validate } from './api.js';
import type { DocumentError, Format, ValidateResult } from './types.js';

export interface EditorHooks {
  onChange(): void;
  onSave(): void;
  /** every validation answer (or failure) for the text it was about */
  onValidated(result: ValidateResult | ApiError, text: string): void;
}

// Chromium's own editing, when typed text replaces a selection that spans lines, merges
// the lines' elements with inline style attributes, which the page's CSP refuses (and
// CodeMirror redraws anyway): text typed over a selection is inserted here instead.
const typeOverSelection = EditorView.domEventHandlers({
  beforeinput(event, view) {
    if (event.inputType !== 'insertText' || event.data === null || view.state.selection.main.empty || view.composing) return false;
    event.preventDefault();
    view.dispatch(view.state.replaceSelection(event.data), { userEvent: 'input.type', scrollIntoView: true });
    return true;
  },
});

const theme = EditorView.theme({
  '&': { height: '100%', fontSize: '13px', backgroundColor: '#fff' },
  '.cm-scroller': { fontFamily: 'ui-monospace, SFMono-Regular, Menlo, Consolas, "DejaVu Sans Mono", monospace', lineHeight: '1.5' },
  '.cm-gutters': { backgroundColor: '#f6f7f9', borderRight: '1px solid #e1e4e8' },
  '&.cm-focused': { outline: 'none' },
});

/** Where a reported error goes: its line and column (1-based), else the first line. */
export function errorRange(doc: Text, e: DocumentError): { from: number; to: number } {
  const line = doc.line(Math.min(Math.max(e.line ?? 1, 1), doc.lines));
  const from = line.from + Math.min(Math.max((e.column ?? 1) - 1, 0), line.length);
  return { from, to: Math.max(from, line.to) };
}

export function errorText(e: DocumentError): string {
  return e.path ? `${e.path}: ${e.message}` : e.message;
}

export class Editor {
  readonly view: EditorView;

  constructor(host: HTMLElement, private readonly hooks: EditorHooks) {
    const root = host.attachShadow({ mode: 'open' });
    this.view = new EditorView({ root, parent: root, state: this.newState('', 'yaml') });
  }

  newState(text: string, format: Format): EditorState {
    const hooks = this.hooks;
    const check = async (view: EditorView): Promise<Diagnostic[]> => {
      const text = view.state.doc.toString();
      if (text.trim() === '') return [];
      const doc = view.state.doc;
      let result: ValidateResult;
      try {
        result = await validate(text, format);
      } catch (err) {
        hooks.onValidated(err instanceof ApiError ? err : new ApiError(0, 'ERROR', String(err)), text);
        return [];
      }
      hooks.onValidated(result, text);
      return result.errors.map((e) => ({ ...errorRange(doc, e), severity: 'error', message: errorText(e), source: 'validate' }));
    };
    return EditorState.create({
      doc: text,
      extensions: [
        basicSetup,
        format === 'json' ? json() : yaml(),
        EditorState.tabSize.of(2),
        EditorView.lineWrapping,
        keymap.of([{ key: 'Mod-s', preventDefault: true, run: () => (hooks.onSave(), true) }]),
        typeOverSelection,
        linter(check, { delay: 350 }),
        lintGutter(),
        theme,
        EditorView.updateListener.of((u) => {
          if (u.docChanged) hooks.onChange();
        }),
      ],
    });
  }

  get state(): EditorState {
    return this.view.state;
  }

  show(state: EditorState): void {
    this.view.setState(state);
    forceLinting(this.view);
  }

  text(): string {
    return this.view.state.doc.toString();
  }

  /** Validate again (after a token is given: the last answer may have been a 401). */
  revalidate(): void {
    // forceLinting alone runs only when an edit is pending; a new view state restarts the linter.
    this.show(this.view.state);
  }

  /** Replace the whole text as one undoable step of its own. */
  replaceText(text: string): void {
    this.view.dispatch({ changes: { from: 0, to: this.view.state.doc.length, insert: text }, annotations: isolateHistory.of('full') });
  }

  gotoLine(line: number, column = 1): void {
    const { from } = errorRange(this.view.state.doc, { message: '', line, column });
    this.view.dispatch({ selection: { anchor: from }, scrollIntoView: true });
    this.view.focus();
  }
}
