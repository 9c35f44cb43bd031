// The browser tests' one entry: `support.mjs` starts the three demo servers (as of
// 2019-11-20, 2025-11-20 and 2014-06-02) and chromium once; each walk file adds its tests.
// A new group of walks is a new file imported here.
import './support.mjs';
import './walks_2019.mjs';
import './walks_2025.mjs';
import './walks_2014.mjs';
import './walks_2019_more.mjs';
import './walks_2014_more.mjs';
import './screens.mjs';
import './signatures.mjs';
import './ncalayer.mjs';
import './screens3.mjs';
