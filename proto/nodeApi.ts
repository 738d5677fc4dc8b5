import { join } from 'node:path';
import { loadPackageDefinition, type ServiceDefinition } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { protoDir } from './load.js';

/** The node-local PodNetwork API (proto/fleetboard/node.proto) shared by plugin and controller. */

export interface PodRef {
  namespace: string;
  name: string;
  uid: string;
}

export interface Route {
  dst: string;
  gw: string;
}

export interface PodNetworkConfig {
  ipAddress: string;
  cidr: string;
  gateway: string;
  macAddress: string;
  routes: Route[];
  mtu: number;
}

export interface AllocateRequest {
  pod: PodRef | null;
}

export interface ReleaseRequest {
  pod: PodRef | null;
  reason: string;
}

export interface ReleaseResponse {
  released: boolean;
}

const definition = loadSync(join(protoDir, 'fleetboard/node.proto'), { longs: Number, enums: String, defaults: true, oneofs: true });
const pkg = loadPackageDefinition(definition) as unknown as {
  fleetboard: { node: { v1: { PodNetwork: { service: ServiceDefinition } } } };
};

export const podNetworkService: ServiceDefinition = pkg.fleetboard.node.v1.PodNetwork.service;

/** Address of the controller's socket in grpc-js form. */
export const unixTarget = (socketPath: string): string => `unix://${socketPath}`;
