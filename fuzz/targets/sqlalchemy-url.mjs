import { parseSqlAlchemyUrl, redactUrl } from '../../dist/metastore/url.js';
import { typed } from './_check.mjs';

/** SQLAlchemy URLs (`AIRFLOW__DATABASE__SQL_ALCHEMY_CONN`) and their redaction. */
export function fuzz(data) {
  const text = data.toString('utf8');
  typed(() => parseSqlAlchemyUrl(text, 'AIRFLOW__DATABASE__SQL_ALCHEMY_CONN', '/tmp'));
  redactUrl(text);
}
