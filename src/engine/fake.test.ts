import { engineContract } from './contract.js';
import { FakeEngine } from './fake.js';

engineContract('FakeEngine', async () => ({ engine: new FakeEngine(), image: 'busybox:latest', label: ['kiboko.test', 'contract-fake'] }));
