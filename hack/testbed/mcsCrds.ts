import type { KubernetesObject } from '@kubernetes/client-node';
import { customResourceDefinition } from './manifestParts.js';
import { MCS_GROUP, MCS_VERSION, MCS_VERSIONS, SERVICE_EXPORT_PLURAL, SERVICE_IMPORT_PLURAL } from '../../controller/mcs/api.js';

/** metav1.Condition. */
const condition = {
  type: 'object',
  required: ['type', 'status', 'reason', 'message', 'lastTransitionTime'],
  properties: {
    type: { type: 'string', maxLength: 316 },
    status: { type: 'string', enum: ['True', 'False', 'Unknown'] },
    reason: { type: 'string', maxLength: 1024 },
    message: { type: 'string', maxLength: 32768 },
    lastTransitionTime: { type: 'string', format: 'date-time' },
    observedGeneration: { type: 'integer', minimum: 0 },
  },
};
const conditions = { type: 'array', items: condition, 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['type'] };
const stringMap = { type: 'object', additionalProperties: { type: 'string' } };

const serviceExport = {
  spec: { type: 'object', properties: { exportedLabels: stringMap, exportedAnnotations: stringMap } },
  status: { type: 'object', properties: { conditions } },
};

const serviceImport = {
  spec: {
    type: 'object',
    required: ['ports', 'type'],
    properties: {
      ports: {
        type: 'array',
        'x-kubernetes-list-type': 'atomic',
        items: {
          type: 'object',
          required: ['port'],
          properties: {
            name: { type: 'string' },
            protocol: { type: 'string', default: 'TCP' },
            appProtocol: { type: 'string' },
            port: { type: 'integer', minimum: 1, maximum: 65535 },
          },
        },
      },
      ips: { type: 'array', maxItems: 2, items: { type: 'string' } },
      type: { type: 'string', enum: ['ClusterSetIP', 'Headless'] },
      sessionAffinity: { type: 'string', enum: ['None', 'ClientIP'] },
      sessionAffinityConfig: { type: 'object', properties: { clientIP: { type: 'object', properties: { timeoutSeconds: { type: 'integer', minimum: 1, maximum: 86400 } } } } },
      ipFamilies: { type: 'array', maxItems: 2, items: { type: 'string', enum: ['IPv4', 'IPv6'] } },
      internalTrafficPolicy: { type: 'string', enum: ['Cluster', 'Local'] },
      trafficDistribution: { type: 'string' },
    },
  },
  status: {
    type: 'object',
    properties: {
      clusters: { type: 'array', 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['cluster'], items: { type: 'object', required: ['cluster'], properties: { cluster: { type: 'string' } } } },
      conditions,
    },
  },
};

function crd(kind: string, plural: string, shortNames: string[], properties: object, columns: object[]): KubernetesObject {
  // Both versions have the same fields, so the apiserver serves one as the other without a conversion webhook.
  const versions = MCS_VERSIONS.map((name) => ({ name, storage: name === MCS_VERSION }));
  return customResourceDefinition({ group: MCS_GROUP, kind, plural, scope: 'Namespaced', shortNames, versions, properties, columns });
}

/** The MCS API's CRDs, written from KEP-1645 and the API's published fields; a member installs them when absent. */
export function mcsCrds(): KubernetesObject[] {
  const conditionColumn = (type: string) => ({ name: type, type: 'string', jsonPath: `.status.conditions[?(@.type=="${type}")].status` });
  return [
    crd('ServiceExport', SERVICE_EXPORT_PLURAL, ['svcex', 'svcexport'], serviceExport, [conditionColumn('Valid'), conditionColumn('Ready'), conditionColumn('Conflict')]),
    crd('ServiceImport', SERVICE_IMPORT_PLURAL, ['svcim', 'svcimport'], serviceImport, [
      { name: 'Type', type: 'string', jsonPath: '.spec.type' },
      { name: 'IP', type: 'string', jsonPath: '.spec.ips' },
    ]),
  ];
}
