import { runMetastoreSuite } from '../helpers/metastore-suite.js';

runMetastoreSuite('postgres');
