import { render } from 'preact';
import { session } from './api/session.js';
import { App } from './app.js';
import './styles.css';

const root = document.getElementById('app');
if (root) {
  // The shell's "Loading…" line goes; render() would otherwise keep it beside the app.
  root.replaceChildren();
  render(<App />, root);
  void session.start();
}
