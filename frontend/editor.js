// The answer editor: CodeMirror 6 over each <textarea class="code-editor"> of the exercise page.
// Progressive enhancement: the textarea stays in the form (hidden) and is kept equal to the
// editor, so submitting, drafts and the page without this bundle all work the same way.
import { closeBrackets, closeBracketsKeymap } from "@codemirror/autocomplete";
import { defaultKeymap, history, historyKeymap, indentWithTab } from "@codemirror/commands";
import { python } from "@codemirror/lang-python";
import {
  bracketMatching,
  defaultHighlightStyle,
  indentOnInput,
  indentUnit,
  syntaxHighlighting,
} from "@codemirror/language";
import { EditorState } from "@codemirror/state";
import {
  drawSelection,
  EditorView,
  highlightActiveLine,
  highlightActiveLineGutter,
  highlightSpecialChars,
  keymap,
  lineNumbers,
} from "@codemirror/view";

// The page's CSP lets in the <style> CodeMirror creates only with this nonce (see lms/web/headers.py).
const nonce = (document.currentScript && document.currentScript.nonce) || "";

function enhance(area) {
  const label = document.querySelector(`label[for="${area.id}"]`);
  const hint = document.getElementById("editor-hint");
  const content = { spellcheck: "false", autocapitalize: "off", autocorrect: "off" };
  if (label) {
    label.id = label.id || `${area.id}-label`;
    content["aria-labelledby"] = label.id;
  }
  if (hint) content["aria-describedby"] = hint.id;
  const view = new EditorView({
    parent: area.parentNode,
    state: EditorState.create({
      doc: area.value,
      extensions: [
        lineNumbers(),
        highlightActiveLineGutter(),
        highlightSpecialChars(),
        history(),
        drawSelection(),
        indentUnit.of("    "),
        EditorState.tabSize.of(4),
        indentOnInput(),
        syntaxHighlighting(defaultHighlightStyle, { fallback: true }),
        bracketMatching(),
        closeBrackets(),
        highlightActiveLine(),
        python(),
        // Tab and Shift-Tab indent; Escape then Tab leaves the editor (CodeMirror's own way out).
        keymap.of([...closeBracketsKeymap, ...defaultKeymap, ...historyKeymap, indentWithTab]),
        EditorView.contentAttributes.of(content),
        EditorView.cspNonce.of(nonce),
        // The page's focus ring (atlas.css --accent), not CodeMirror's dotted one.
        EditorView.theme({ "&.cm-focused": { outline: "2px solid #1f5fbf", outlineOffset: "1px" } }),
        EditorView.updateListener.of((update) => {
          if (!update.docChanged) return;
          area.value = update.state.doc.toString();
          area.dispatchEvent(new Event("input", { bubbles: true }));
        }),
      ],
    }),
  });
  area.after(view.dom);
  area.hidden = true;
  area.classList.add("enhanced");
  view.dom.classList.add("answer-editor");
  if (label) label.addEventListener("click", () => view.focus());
  // Someone else (a restored draft) may set the textarea: the editor follows.
  area.addEventListener("atlas:set", () => {
    if (area.value !== view.state.doc.toString()) {
      view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: area.value } });
    }
  });
  return view;
}

document.querySelectorAll("textarea.code-editor").forEach(enhance);
document.documentElement.classList.add("has-code-editor");
