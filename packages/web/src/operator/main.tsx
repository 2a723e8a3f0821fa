import { render } from 'preact';
import '../style.css';
import { OperatorPage } from './OperatorPage.js';

const m = /^\/s\/([a-z0-9][a-z0-9-]{1,62})\/?$/.exec(location.pathname);
const root = document.getElementById('app');
if (root !== null) render(<OperatorPage session={m?.[1] ?? ''} />, root);
