import { runMetastoreSuite } from '../helpers/metastore-suite.js';

runMetastoreSuite('mariadb');
