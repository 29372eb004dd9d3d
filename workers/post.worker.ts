import { expose } from 'comlink';
import { installErrorTransfer } from '../src/shared/comlink-errors';
import { createPostApi } from './post-core';

// Mesh processing and export: off the main thread, so a 1 M-triangle mesh never freezes the page.
installErrorTransfer();
expose(createPostApi());
