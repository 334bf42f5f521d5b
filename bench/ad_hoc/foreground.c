#define _GNU_SOURCE
#include <background.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>
#include <stdatomic.h>
static uint64_t now(void){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec*1000000000ull+t.tv_nsec;}
static atomic_int stop;
static int spin(void*a){(void)a;uint64_t e=now()+5000000;volatile int x=0;while(now()<e)x++; return 0;}
static void idle_hook(void*c,size_t i){(void)c;(void)i;struct sched_param p={0};sched_setscheduler(0,SCHED_IDLE,&p);}
static int cmp(const void*a,const void*b){uint64_t x=*(uint64_t*)a,y=*(uint64_t*)b;return x<y?-1:x>y;}
static void fg(const char*label){enum{N=1000};static uint64_t lat[N];
 for(int i=0;i<N;i++){uint64_t t0=now();usleep(1000);uint64_t e=now()+200000;volatile int x=0;while(now()<e)x++;lat[i]=now()-t0-1000000;}
 qsort(lat,N,8,cmp);printf("%-12s p50 %6.0f us  p99 %6.0f us\n",label,lat[N/2]/1e3,lat[N*99/100]/1e3);}
int main(int argc,char**argv){const char*mode=argc>1?argv[1]:"none";
 if(!strcmp(mode,"none")){fg("no pool");return 0;}
 bg_pool_options o;bg_pool_options_init(&o);o.threads=sysconf(_SC_NPROCESSORS_ONLN);
 if(!strcmp(mode,"utility"))o.qos=BG_QOS_UTILITY; if(!strcmp(mode,"background"))o.qos=BG_QOS_BACKGROUND;
 if(!strcmp(mode,"idle"))o.on_thread_start=idle_hook;
 bg_pool*p;if(bg_pool_new(&o,&p))return 1;
 /* keep the pool saturated: a feeder keeps ~4x threads tasks queued */
 for(int i=0;i<100000;i++) if(bg_pool_submit(p,spin,0,0,0))break;
 usleep(20000); fg(mode); bg_pool_shutdown(p,BG_SHUTDOWN_CANCEL,BG_FOREVER); bg_pool_free(p);return 0;}
