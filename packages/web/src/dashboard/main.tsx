import { render } from 'preact';
import '../style.css';
import { usePath } from '../lib/route.js';
import { Home } from './Home.js';
import { SessionPage } from './SessionPage.js';

function App() {
  const path = usePath();
  const m = /^\/session\/([a-z0-9][a-z0-9-]{1,62})\/?$/.exec(path);
  return m?.[1] === undefined ? <Home /> : <SessionPage id={m[1]} key={m[1]} />;
}

const root = document.getElementById('app');
if (root !== null) render(<App />, root);
