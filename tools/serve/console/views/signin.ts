/**
 * @module The sign-in form: asks for an API token once, checks it against the server (a read
 * of the worlds list), and only then keeps it for this tab.
 */
import { clientFor } from "../api.js";
import { h, replace } from "../dom.js";
import { saveToken } from "../session.js";

/** Draws the sign-in form into `root`; `done` runs once a token works. */
export function signInView(root: HTMLElement, fail: (e: unknown) => void, done: () => void): void {
  const input = h("input", {
    type: "password",
    id: "token",
    name: "token",
    autocomplete: "off",
    required: true,
    spellcheck: "false",
  });
  const button = h("button", { type: "submit" }, "Sign in");
  const form = h(
    "form",
    {
      class: "panel signin",
      id: "signin",
      onsubmit: (e: Event) => {
        e.preventDefault();
        const token = input.value.trim();
        if (token === "") return;
        button.disabled = true;
        clientFor(token)
          .worlds()
          .then(
            () => {
              saveToken(token);
              done();
            },
            (err: unknown) => {
              button.disabled = false;
              fail(err);
            },
          );
      },
    },
    h("h1", {}, "Sign in"),
    h(
      "p",
      {},
      "Paste an API token from the server's tokens file. It is kept for this tab only (sessionStorage) " +
        "and sent as a bearer header, never in a URL.",
    ),
    h("label", { for: "token" }, "API token"),
    input,
    button,
  );
  replace(root, form);
  input.focus();
}
